/**
 * @module The server side of the forward protocol's handshake (spec v1, "Handshake Messages";
 * Fluentd's in_forward with `<security>`): on connect the server sends
 * `["HELO", {nonce, auth, keepalive}]`; the client answers
 * `["PING", client_hostname, shared_key_salt, sha512_hex(salt + client_hostname + nonce + shared_key),
 * username, password_digest]`; the server checks the digest and answers
 * `["PONG", ok, reason, server_hostname, sha512_hex(salt + server_hostname + nonce + shared_key)]`,
 * then closes the connection when `ok` is false. User authentication (`auth` salt, username and
 * password) is not offered: `auth` is empty, so clients send an empty username.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { Ping } from './decode.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });

export interface HandshakeState {
  readonly nonce: Buffer;
}

function sha512hex(...parts: (Buffer | string)[]): string {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** A fresh nonce and the HELO that carries it. */
export function helo(): { state: HandshakeState; bytes: Buffer } {
  const nonce = randomBytes(16);
  return {
    state: { nonce },
    bytes: Buffer.from(packr.pack(['HELO', { nonce, auth: Buffer.alloc(0), keepalive: true }])),
  };
}

/** Undefined when the PING proves the shared key, else why not (the PONG's reason). */
export function checkPing(state: HandshakeState, ping: Ping, sharedKey: string): string | undefined {
  const want = Buffer.from(sha512hex(ping.sharedKeySalt, ping.clientHostname, state.nonce, sharedKey));
  const got = Buffer.from(ping.sharedKeyHexdigest);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return 'shared_key mismatch';
  return undefined;
}

/** The PONG: ok or not, with the server's proof that it knows the key too. */
export function pong(
  state: HandshakeState,
  ping: Ping,
  ok: boolean,
  reason: string,
  serverHostname: string,
  sharedKey: string,
): Buffer {
  const digest = ok ? sha512hex(ping.sharedKeySalt, serverHostname, state.nonce, sharedKey) : '';
  return Buffer.from(packr.pack(['PONG', ok, reason, serverHostname, digest]));
}

/** `{ack: chunk}`: the events of the chunk are stored. */
export function ack(chunk: string): Buffer {
  return Buffer.from(packr.pack({ ack: chunk }));
}
