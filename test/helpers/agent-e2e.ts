/**
 * @module Shared bits of the agent's end-to-end tests: a free port, polling, a client for a URL,
 * and reading back what a server holds for one job.
 */
import { createServer } from 'node:net';
import { KjournalClient } from '../../src/client/client.js';
import { allValues, queryRange } from './server-process.js';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
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
