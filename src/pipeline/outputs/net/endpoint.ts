/**
 * @module The address of a socket output: `udp://host:port`, `tcp://host:port` or `tls://host:port`
 * (IPv6 hosts in brackets), read from the `url` option with a `ConfigError` naming the field, and the
 * `tls` options (CA, client certificate and key files relative to the configuration's directory,
 * `insecureSkipVerify`, `serverName`) as Node's TLS connection options.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { Options } from '../../../config/options.js';

export type Scheme = 'udp' | 'tcp' | 'tls';

export interface Endpoint {
  readonly scheme: Scheme;
  readonly host: string;
  readonly port: number;
  /** `scheme://host:port`, for error messages. */
  readonly text: string;
}

const URL_RE = /^([a-z]+):\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})\/?$/;

/** Reads `key` (default `url`) as an endpoint with one of `schemes`. */
export function readEndpoint(opts: Options, schemes: readonly Scheme[], key = 'url'): Endpoint {
  const text = opts.string(key);
  const m = URL_RE.exec(text.trim());
  if (!m) throw opts.error(key, `must look like ${schemes[0]}://host:port, got ${JSON.stringify(text)}`);
  const scheme = m[1] as Scheme;
  if (!schemes.includes(scheme))
    throw opts.error(key, `scheme must be one of ${schemes.join(', ')}, got ${JSON.stringify(m[1])}`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw opts.error(key, `port must be 1-65535, got ${port}`);
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  return { scheme, host, port, text: `${scheme}://${m[2]}:${port}` };
}

/** The `tls` options of a `tls://` endpoint; undefined for another scheme, where `tls` is an error. */
export function readEndpointTls(opts: Options, ep: Endpoint, baseDir: string): ConnectionOptions | undefined {
  if (ep.scheme === 'tls') return readTls(opts, baseDir);
  if (opts.has('tls')) throw opts.error('tls', 'only applies to tls://');
  return undefined;
}

/** Reads the `tls` mapping: `ca`, `cert`, `key` (files), `insecureSkipVerify`, `serverName`. */
function readTls(opts: Options, baseDir: string, key = 'tls'): ConnectionOptions {
  const t = opts.object(key);
  const file = (name: string): Buffer | undefined => {
    const p = t.optionalString(name);
    if (p === undefined) return undefined;
    try {
      return readFileSync(resolve(baseDir, p));
    } catch (err) {
      throw t.error(name, `cannot read ${p}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const ca = file('ca');
  const cert = file('cert');
  const keyPem = file('key');
  if ((cert === undefined) !== (keyPem === undefined))
    throw t.error(cert === undefined ? 'cert' : 'key', 'cert and key must be given together');
  const insecure = t.boolean('insecureSkipVerify', false);
  const serverName = t.optionalString('serverName');
  t.done();
  return {
    ...(ca && { ca }),
    ...(cert && { cert }),
    ...(keyPem && { key: keyPem }),
    rejectUnauthorized: !insecure,
    ...(serverName !== undefined && { servername: serverName }),
  };
}
