/**
 * @module Shared bits of the agent's end-to-end tests: a free port, polling, a client for a URL,
 * and reading back what a server holds for one job.
 */
import { createServer } from 'node:net';
import { KjournalClient } from '../../src/client/client.js';
import { allValues, queryRange } from './server-process.js';

/**
 * A free loopback port below Linux's ephemeral range (32768–60999), for a server that a test stops
 * and starts again at the same address. A port from `listen(0)` is in that range, and between the
 * stop and the start the kernel may give it to another test's `listen(0)` or outgoing connection
 * (CI once saw EADDRINUSE on a restart); a port below the range is never handed out that way.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const s = createServer();
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.listen(port, '127.0.0.1', () => r(true));
    });
    if (ok) {
      await new Promise<void>((r) => s.close(() => r()));
      return port;
    }
    if (attempt >= 50) throw new Error('no free port between 20000 and 32000 after 50 tries');
  }
}

export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  // The monotonic clock: this machine's wall clock has jumped forward by seconds mid-test (a CI
  // run at e8dff70 timed out "after 20000 ms" in a test that had run 3.6 s).
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function clientFor(url: string): KjournalClient {
  return new KjournalClient(
    { server: new URL(url), insecureSkipTlsVerify: false, source: 'test' },
    { timeoutMs: 5000 },
  );
}

/** Every line the server holds for `{job="<job>"}` between `fromNs` and `toNs`, oldest first. */
export async function linesOf(url: string, job: string, fromNs: bigint, toNs: bigint): Promise<string[]> {
  const res = await queryRange(url, {
    query: `{job="${job}"}`,
    start: String(fromNs),
    end: String(toNs),
    limit: '5000',
    direction: 'forward',
  });
  return allValues(res).map(([, line]) => line);
}

/** Asserts-friendly summary: which of `0..total-1` are missing and which appear more than once. */
export function tally(lines: readonly string[], total: number): { missing: number[]; repeated: number[] } {
  const count = new Map<string, number>();
  for (const l of lines) count.set(l, (count.get(l) ?? 0) + 1);
  const missing: number[] = [];
  const repeated: number[] = [];
  for (let i = 0; i < total; i++) {
    const c = count.get(`line ${i}`) ?? 0;
    if (c === 0) missing.push(i);
    if (c > 1) repeated.push(i);
  }
  return { missing, repeated };
}
