/**
 * @module Log patterns of a selection, as Loki's `/loki/api/v1/patterns` answers them: Loki's
 * pattern ingester runs Drain (drain.ts) on every stream as lines arrive and keeps, per template,
 * the number of lines per 10 seconds; a query merges the templates of the selected streams by
 * their text and sums their counts per `step`. kjournal replays the stored lines of the query's
 * range through the same miner instead: one Drain per stream, its format guessed from the stream's
 * first line in the range, in time order.
 *
 * As Loki (pkg/pattern/instance.go, stream.go, drain/chunk.go, ingester_querier.go):
 * - a line counts at its time truncated to 10 s, and only when that lies in [start, end) (in
 *   milliseconds, start rounded down and end up); counts go to steps of at least 10 s, aligned on
 *   the epoch, and only steps with lines are listed;
 * - templates counting fewer than 30 lines in the range are left out, and at most 300 are answered,
 *   the most frequent first.
 *
 * Bounds (kjournal's): at most `maxLines` lines are mined (the range is counted first, and a range
 * with more is refused before any line is read), and at most `maxClusters` templates are kept
 * across all streams at once (Loki's 300 per stream still applies); beyond either the query fails
 * with PatternLimitError rather than answer from part of the range. Memory is then bounded by the
 * templates (each at most 80 tokens of a line of at most 3,000 bytes) and by one count per line.
 */
import type { LabelMatcher, Store } from '../../store/store.js';
import { type Cluster, DEFAULT_DRAIN_CONFIG, Drain, type DrainConfig } from './drain.js';
import { detectLogFormat, tokenizerFor } from './tokenizers.js';

export interface PatternLimits {
  /** Lines mined at most; a range with more is refused. */
  readonly maxLines: number;
  /** Templates kept at once across the selected streams. */
  readonly maxClusters: number;
}

export const DEFAULT_PATTERN_LIMITS: PatternLimits = Object.freeze({
  maxLines: 1_000_000,
  maxClusters: 10_000,
});

/** Loki's minClusterSize and maxPatterns (pkg/pattern/ingester_querier.go). */
export const MIN_PATTERN_LINES = 30;
export const MAX_PATTERNS = 300;
/** Loki's drain.TimeResolution: counts are kept per 10 seconds. */
export const RESOLUTION_MS = 10_000;

/** A bound of pattern detection was reached: Loki's API answers 400 with the message. */
export class PatternLimitError extends Error {
  override readonly name = 'PatternLimitError';
  readonly code = 'PATTERN_LIMIT';
}

export interface PatternQuery {
  readonly tenant: string;
  readonly matchers: readonly LabelMatcher[];
  /** The range, nanoseconds, both ends included (the store reads [start, end + 1)). */
  readonly start: bigint;
  readonly end: bigint;
  /** The step in milliseconds (raised to 10 s when smaller, as Loki does). */
  readonly stepMs: number;
  readonly signal?: AbortSignal;
}

export interface PatternSeries {
  readonly pattern: string;
  /** [Unix seconds, lines] per step, in time order. */
  readonly samples: [number, number][];
}

export interface MineResult {
  readonly patterns: PatternSeries[];
  /** Lines read from the store, and of them those some template took. */
  readonly linesRead: number;
  readonly linesMined: number;
}

const NS_PER_MS = 1_000_000n;
/** Lines mined between two turns of the event loop (about 20 ms of work at worst). */
const YIELD_EVERY = 1000;

export async function minePatterns(
  store: Store,
  q: PatternQuery,
  limits: PatternLimits = DEFAULT_PATTERN_LIMITS,
  config: DrainConfig = DEFAULT_DRAIN_CONFIG,
): Promise<MineResult> {
  const selection = {
    tenant: q.tenant,
    start: q.start,
    end: q.end + 1n,
    matchers: q.matchers,
    lineFilters: [],
    ...(q.signal ? { signal: q.signal } : {}),
  };
  const tooMany = () =>
    new PatternLimitError(
      `pattern detection reads at most ${limits.maxLines} lines and the query's range holds more: narrow the time range or the stream selector`,
    );
  if ((await store.count(selection)) > limits.maxLines) throw tooMany();

  // util.RoundToMilliseconds: start down, end up.
  const fromMs = Number(q.start / NS_PER_MS);
  const throughMs = Number((q.end + NS_PER_MS - 1n) / NS_PER_MS);
  const step = Math.max(q.stepMs, RESOLUTION_MS);
  let kept = 0;
  const hooks = {
    admit: () => {
      if (kept >= limits.maxClusters)
        throw new PatternLimitError(
          `pattern detection keeps at most ${limits.maxClusters} patterns at once and the selected streams have more: narrow the stream selector`,
        );
      kept++;
      return true;
    },
    evicted: () => {
      kept--;
    },
  };
  const miners = new Map<bigint, Drain>();
  let linesRead = 0;
  let linesMined = 0;
  let sinceYield = 0;
  for await (const batch of store.entries({ ...selection, direction: 'forward' })) {
    q.signal?.throwIfAborted();
    linesRead += batch.length;
    if (linesRead > limits.maxLines) throw tooMany();
    for (const e of batch) {
      // Mining is synchronous: let other requests run between slices of a batch.
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
        q.signal?.throwIfAborted();
      }
      let drain = miners.get(e.stream.id);
      if (!drain) {
        drain = new Drain(tokenizerFor(detectLogFormat(e.body)), config, hooks);
        miners.set(e.stream.id, drain);
      }
      const cluster = drain.train(e.body, e.timestamp);
      if (!cluster) continue;
      linesMined++;
      const ms = Number(e.timestamp / NS_PER_MS);
      const at = ms - (ms % RESOLUTION_MS);
      if (at >= fromMs && at < throughMs) count(cluster, at - (at % step));
    }
  }
  return { patterns: merge(miners), linesRead, linesMined };
}

/** One more line at `at`: lines arrive in time order, so a cluster's steps only grow. */
function count(cluster: Cluster, at: number): void {
  const s = cluster.samples;
  if (s.length > 0 && s[s.length - 2] === at) s[s.length - 1]!++;
  else s.push(at, 1);
}

/** The templates of every stream merged by text, pruned as Loki's querier prunes them. */
function merge(miners: ReadonlyMap<bigint, Drain>): PatternSeries[] {
  const byPattern = new Map<string, Map<number, number>>();
  for (const drain of miners.values()) {
    for (const cluster of drain.all()) {
      if (cluster.samples.length === 0) continue;
      const pattern = drain.template(cluster);
      if (pattern === '') continue;
      let steps = byPattern.get(pattern);
      if (!steps) {
        steps = new Map();
        byPattern.set(pattern, steps);
      }
      const s = cluster.samples;
      for (let i = 0; i < s.length; i += 2) steps.set(s[i]!, (steps.get(s[i]!) ?? 0) + s[i + 1]!);
    }
  }
  const series: { pattern: string; total: number; steps: Map<number, number> }[] = [];
  for (const [pattern, steps] of byPattern) {
    let total = 0;
    for (const n of steps.values()) total += n;
    if (total >= MIN_PATTERN_LINES) series.push({ pattern, total, steps });
  }
  // Loki sorts by total alone (sort.Slice, not stable); ties go by text here, to answer the same twice.
  series.sort((a, b) => b.total - a.total || (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0));
  return series.slice(0, MAX_PATTERNS).map(({ pattern, steps }) => ({
    pattern,
    samples: [...steps.entries()].sort((a, b) => a[0] - b[0]).map(([ms, n]) => [Math.floor(ms / 1000), n]),
  }));
}
