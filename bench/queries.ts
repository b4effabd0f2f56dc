/**
 * @module The query phase: repeated, timed Loki API queries (newest lines of one pod, a substring
 * count and a regex count over all data) and the same counts by GNU grep on the raw NDJSON file.
 */
import { spawnSync } from 'node:child_process';
import type { Agent } from 'node:http';
import { httpRequest } from './push.js';

export interface Timing {
  /** The timed runs, milliseconds; the warm-up run is not among them. */
  readonly runsMs: number[];
  readonly warmupMs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

function summarize(warmupMs: number, runsMs: number[]): Timing {
  const sorted = [...runsMs].sort((a, b) => a - b);
  return {
    runsMs,
    warmupMs,
    medianMs: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    minMs: sorted[0] ?? Number.NaN,
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** One warm-up run, then `runs` timed runs; returns the timing and the last run's result. */
export async function timeRuns<T>(
  runs: number,
  fn: () => Promise<T>,
): Promise<{ timing: Timing; result: T }> {
  let t0 = performance.now();
  let result = await fn();
  const warmupMs = performance.now() - t0;
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    result = await fn();
    runsMs.push(performance.now() - t0);
  }
  return { timing: summarize(warmupMs, runsMs), result };
}

/** `grep -c <mode> <pattern> <file>` (LC_ALL=C), warm-up plus `runs` timed runs. */
export async function timeGrep(
  runs: number,
  mode: '-F' | '-E',
  pattern: string,
  file: string,
): Promise<{ timing: Timing; result: number }> {
  return timeRuns(runs, async () => {
    const r = spawnSync('grep', ['-c', mode, pattern, file], {
      env: { ...process.env, LC_ALL: 'C' },
      encoding: 'utf8',
    });
    if (r.status !== 0 && r.status !== 1) throw new Error(`grep failed (${r.status}): ${r.stderr}`);
    return Number(r.stdout.trim());
  });
}

async function getJson(agent: Agent, url: string): Promise<unknown> {
  const res = await httpRequest(agent, url, 'GET');
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${res.body.slice(0, 500)}`);
  return JSON.parse(res.body) as unknown;
}

interface StreamsResponse {
  data?: { resultType?: string; result?: { stream?: Record<string, string>; values?: [string, string][] }[] };
}

/** `query_range` for log lines; returns the entries' timestamps (ns strings), newest first. */
export async function queryLines(
  agent: Agent,
  baseUrl: string,
  query: string,
  start: bigint,
  end: bigint,
  limit: number,
): Promise<string[]> {
  const qs = new URLSearchParams({
    query,
    limit: String(limit),
    direction: 'backward',
    start: String(start),
    end: String(end),
  });
  const body = (await getJson(agent, `${baseUrl}/loki/api/v1/query_range?${qs}`)) as StreamsResponse;
  if (body.data?.resultType !== 'streams') {
    throw new Error(
      `query_range returned resultType ${JSON.stringify(body.data?.resultType)}, expected "streams"`,
    );
  }
  const ts: string[] = [];
  for (const s of body.data.result ?? []) for (const [t] of s.values ?? []) ts.push(t);
  return ts.sort((a, b) => (BigInt(b) > BigInt(a) ? 1 : BigInt(b) < BigInt(a) ? -1 : 0));
}

interface VectorResponse {
  data?: { resultType?: string; result?: { metric?: Record<string, string>; value?: [number, string] }[] };
}

/** An instant metric query that yields one sample (or none, meaning 0); returns its value. */
export async function queryScalar(
  agent: Agent,
  baseUrl: string,
  query: string,
  time: bigint,
): Promise<number> {
  const qs = new URLSearchParams({ query, time: String(time) });
  const body = (await getJson(agent, `${baseUrl}/loki/api/v1/query?${qs}`)) as VectorResponse;
  if (body.data?.resultType !== 'vector') {
    throw new Error(`query returned resultType ${JSON.stringify(body.data?.resultType)}, expected "vector"`);
  }
  const result = body.data.result ?? [];
  if (result.length > 1) throw new Error(`query returned ${result.length} series, expected one`);
  return result.length === 0 ? 0 : Number(result[0]!.value?.[1]);
}
