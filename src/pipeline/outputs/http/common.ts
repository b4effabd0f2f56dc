/**
 * @module The options every HTTP output shares, read the same way for all:
 *
 * - `url`: the peer's base URL (http or https); each output adds its own path.
 * - `headers`: extra headers, a mapping.
 * - `bearerToken` or `bearerTokenFile` (re-read at every send, so a rotated token is picked up):
 *   `Authorization: Bearer ...`.
 * - `basicAuth: { username, password | passwordFile }`.
 * - `tls: { caFile, certFile, keyFile, insecureSkipVerify, serverName }`; files relative to the
 *   configuration file.
 * - `timeout`: a duration (`30s`, `1m`) or seconds; an idle request fails after it (default 30s).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, type Options } from '../../../config/options.js';
import { parseDurationNs } from '../../../model/time.js';
import { type OutputContext, OutputError } from '../output.js';
import type { TlsSettings } from './transport.js';

export type Credentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly token?: string; readonly tokenFile?: string }
  | {
      readonly kind: 'basic';
      readonly username: string;
      readonly password?: string;
      readonly passwordFile?: string;
    };

export interface HttpSettings {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly credentials: Credentials;
  readonly tls: TlsSettings;
  readonly timeoutMs: number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export function readUrl(o: Options, key = 'url'): URL {
  const text = o.string(key);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw o.error(key, `must be a URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw o.error(key, `must be an http:// or https:// URL, got ${JSON.stringify(text)}`);
  }
  return url;
}

/** A duration option in milliseconds: `30s`, `1m`, `500ms`, or a number of seconds. */
export function readDurationMs(o: Options, key: string, dfltMs: number): number {
  if (!o.has(key)) {
    o.raw(key);
    return dfltMs;
  }
  const v = o.raw(key);
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v * 1000;
  const ns = typeof v === 'string' ? parseDurationNs(v.trim()) : undefined;
  if (ns === undefined || ns <= 0n)
    throw o.error(key, `must be a duration such as 30s, got ${JSON.stringify(v)}`);
  return Number(ns / 1_000_000n);
}

function readBytes(o: Options, key: string, ctx: OutputContext): Buffer | undefined {
  const file = o.optionalString(key);
  if (file === undefined) return undefined;
  try {
    return readFileSync(resolve(ctx.baseDir, file));
  } catch (err) {
    throw o.error(key, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export function readTls(o: Options, ctx: OutputContext): TlsSettings {
  const t = o.object('tls');
  const settings: TlsSettings = {
    ca: readBytes(t, 'caFile', ctx),
    cert: readBytes(t, 'certFile', ctx),
    key: readBytes(t, 'keyFile', ctx),
    insecureSkipVerify: t.boolean('insecureSkipVerify', false),
    serverName: t.optionalString('serverName'),
  };
  if ((settings.cert === undefined) !== (settings.key === undefined)) {
    throw t.error(settings.cert === undefined ? 'certFile' : 'keyFile', 'certFile and keyFile go together');
  }
  t.done();
  return settings;
}

export function readCredentials(o: Options, ctx: OutputContext): Credentials {
  const token = o.optionalString('bearerToken');
  const tokenFile = o.optionalString('bearerTokenFile');
  const hasBasic = o.has('basicAuth');
  const basic = o.object('basicAuth');
  const set = [token !== undefined, tokenFile !== undefined, hasBasic].filter(Boolean).length;
  if (set > 1) throw new ConfigError(o.path, 'give one of bearerToken, bearerTokenFile and basicAuth');
  if (token !== undefined) return { kind: 'bearer', token };
  if (tokenFile !== undefined) return { kind: 'bearer', tokenFile: resolve(ctx.baseDir, tokenFile) };
  if (!hasBasic) return { kind: 'none' };
  const username = basic.string('username');
  const password = basic.optionalString('password');
  const passwordFile = basic.optionalString('passwordFile');
  if ((password === undefined) === (passwordFile === undefined)) {
    throw basic.error('password', 'give one of password and passwordFile');
  }
  basic.done();
  return password !== undefined
    ? { kind: 'basic', username, password }
    : { kind: 'basic', username, passwordFile: resolve(ctx.baseDir, passwordFile ?? '') };
}

/**
 * url, headers, credentials (unless the output has its own, like Splunk's token), tls, timeout. The
 * caller reads its own options and calls `done()`.
 */
export function readHttpSettings(o: Options, ctx: OutputContext, withCredentials = true): HttpSettings {
  return {
    url: readUrl(o),
    headers: o.stringMap('headers'),
    credentials: withCredentials ? readCredentials(o, ctx) : { kind: 'none' },
    tls: readTls(o, ctx),
    timeoutMs: readDurationMs(o, 'timeout', DEFAULT_TIMEOUT_MS),
  };
}

/** A token or password file's content, trimmed; a retryable OutputError when it cannot be read. */
export async function readSecret(peer: string, file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    // Retryable: a projected token may be in the middle of its rotation.
    throw new OutputError(`${peer}: cannot read ${file}: ${(err as Error).message}`, true, { cause: err });
  }
}

/** The Authorization header of these credentials, reading files now; undefined for none. */
export async function authorization(peer: string, c: Credentials): Promise<string | undefined> {
  switch (c.kind) {
    case 'none':
      return undefined;
    case 'bearer':
      return `Bearer ${c.token ?? (await readSecret(peer, c.tokenFile ?? ''))}`;
    case 'basic': {
      const password = c.password ?? (await readSecret(peer, c.passwordFile ?? ''));
      return `Basic ${Buffer.from(`${c.username}:${password}`).toString('base64')}`;
    }
  }
}

/** The configured headers plus Authorization, ready for one request. */
export async function requestHeaders(
  peer: string,
  s: HttpSettings,
  extra: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  const h: Record<string, string> = { ...s.headers, ...extra };
  const auth = await authorization(peer, s.credentials);
  if (auth !== undefined) h.authorization = auth;
  return h;
}

/** `base` with `path` appended to its path (a proxy prefix in the URL is kept). */
export function joinPath(base: URL, path: string): URL {
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  return url;
}

/** How error messages name an output: `loki "main" (http://loki:3100)`. */
export function peerName(type: string, name: string, url: URL): string {
  return `${type} output ${JSON.stringify(name)} (${url.origin}${url.pathname.replace(/\/$/, '')})`;
}
