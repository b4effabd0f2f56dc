/**
 * kube-apiserver's WebSocket bearer token (k8s.io/apiserver/pkg/authentication/request/websocket):
 * a browser's WebSocket offers `base64url.bearer.authorization.k8s.io.<token>` as a subprotocol;
 * the token authenticator takes it on upgrades only, and removes it from the offered protocols so
 * that the WebSocket server never echoes the token back.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { bearerTokenAuthenticator } from '../../src/auth/authenticate.js';
import { AuthenticationError } from '../../src/auth/errors.js';
import { parseTokenCsv } from '../../src/auth/token-file.js';

const tokens = parseTokenCsv('s3cret-token,alice,1\n', 'tokens.csv');
const authenticate = bearerTokenAuthenticator(tokens);
const PREFIX = 'base64url.bearer.authorization.k8s.io.';
const b64 = (s: string) => Buffer.from(s).toString('base64url');

function request(headers: Record<string, string>): IncomingMessage {
  return { headers: { ...headers }, headersDistinct: undefined } as unknown as IncomingMessage;
}

describe('bearer tokens in the WebSocket subprotocol', () => {
  it('authenticates an upgrade by its token protocol and leaves only the other protocols', () => {
    const req = request({
      upgrade: 'websocket',
      'sec-websocket-protocol': `kjournal.tail, ${PREFIX}${b64('s3cret-token')}`,
    });
    assert.equal(authenticate(req)?.name, 'alice');
    assert.equal(req.headers['sec-websocket-protocol'], 'kjournal.tail');
  });

  it('removes the header when the token was the only protocol', () => {
    const req = request({
      upgrade: 'websocket',
      'sec-websocket-protocol': `${PREFIX}${b64('s3cret-token')}`,
    });
    assert.equal(authenticate(req)?.name, 'alice');
    assert.equal(req.headers['sec-websocket-protocol'], undefined);
  });

  it('refuses a wrong or undecodable token (401), and ignores the protocol on plain requests', () => {
    assert.throws(
      () =>
        authenticate(request({ upgrade: 'websocket', 'sec-websocket-protocol': `${PREFIX}${b64('nope')}` })),
      AuthenticationError,
    );
    assert.throws(
      () =>
        authenticate(request({ upgrade: 'websocket', 'sec-websocket-protocol': `${PREFIX}not+base64url=` })),
      AuthenticationError,
    );
    assert.equal(
      authenticate(request({ 'sec-websocket-protocol': `${PREFIX}${b64('s3cret-token')}` })),
      undefined,
    );
    assert.equal(
      authenticate(request({ upgrade: 'websocket', 'sec-websocket-protocol': 'kjournal.tail' })),
      undefined,
    );
  });

  it('prefers the Authorization header when both are sent', () => {
    const req = request({
      authorization: 'Bearer s3cret-token',
      upgrade: 'websocket',
      'sec-websocket-protocol': `${PREFIX}${b64('nope')}`,
    });
    assert.equal(authenticate(req)?.name, 'alice');
  });
});
