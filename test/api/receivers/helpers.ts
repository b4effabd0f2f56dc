/**
 * @module Shared by the receivers' tests: an in-process server with receivers on free loopback
 * ports, a caller of a router's handlers, the lines a LogQL query finds, and the receivers'
 * counters read from /metrics.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Router } from '../../../src/api/http/router.js';
import { RequestAccess } from '../../../src/auth/access.js';
import { ANONYMOUS_USER } from '../../../src/auth/types.js';
import {
  DEFAULT_SERVER_CONFIG,
  type RunningServer,
  type ServerConfig,
  startServer,
} from '../../../src/server/app.js';
import { allValues, http, queryRange } from '../../helpers/server-process.js';

export const LOOPBACK = { host: '127.0.0.1', port: 0 };

/**
 * Calls `router`'s handler for a POST of `body` (as `type`) to `path`, allowed for anyone, and
 * turns a thrown error into the route's own error answer, as the server does.
 */
export function routeCaller(router: Router) {
  return (path: string, type: string, body: string) => {
    const m = router.matchPath(path)!;
    const req = Object.assign(Readable.from([Buffer.from(body)]), {
      method: 'POST',
      headers: { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) },
    });
    const access = new RequestAccess(ANONYMOUS_USER, 'default', path, async () => 'allow');
    const ctx = {
      req,
      url: new URL(`http://x${path}`),
      params: new URLSearchParams(),
      pathParams: m.pathParams,
      access,
    } as never;
    return m.route.handler(ctx).catch((err: unknown) => m.route.onError(err, ctx));
  };
}

export async function startTestServer(
  extra: Partial<ServerConfig>,
): Promise<{ server: RunningServer; logs: string[]; stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kj-recv-'));
  const logs: string[] = [];
  const server = await startServer({
    ...DEFAULT_SERVER_CONFIG,
    port: 0,
    dataDir,
    minFreeDisk: { bytes: 0 },
    log: (l) => logs.push(l),
    ...extra,
  });
  return {
    server,
    logs,
    async stop() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The lines `query` finds over the last hour (oldest first). */
export async function lines(
  url: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<string[]> {
  const res = await queryRange(url, { query, limit: '5000', since: '1h' }, headers);
  return allValues(res).map(([, l]) => l);
}

/** The streams `query` finds (their labels). */
export async function streams(url: string, query: string): Promise<Record<string, string>[]> {
  const res = await queryRange(url, { query, limit: '5000', since: '1h' });
  return res.data.result.map((s) => s.stream);
}

/** `kjournal_receiver_records_total` (or `_bytes_total`) for a protocol and result. */
export async function received(
  url: string,
  protocol: string,
  result: 'accepted' | 'refused',
  what: 'records' | 'bytes' = 'records',
): Promise<number> {
  const text = (await http(`${url}/metrics`)).text;
  const m = new RegExp(
    `kjournal_receiver_${what}_total\\{protocol="${protocol}",result="${result}"\\} (\\d+)`,
  ).exec(text);
  return m ? Number(m[1]) : 0;
}

export async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
