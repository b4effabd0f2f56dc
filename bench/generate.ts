/**
 * @module The bench data set: a deterministic, realistic mix of Kubernetes logs (about 50% JSON
 * application logs, 20% Kata runtime logfmt, 25% plain text, 5% audit events; about 210 bytes a line) over ~300 streams and
 * the two hours before `endNs`. Same seed, line count and end time give byte-identical output.
 *
 * Run on its own to write the raw NDJSON file:
 * `node dist/bench/generate.js [--lines N] [--seed S] [--end-ns NS] [--out FILE]`
 * (also `KJ_BENCH_LINES`, `KJ_BENCH_SEED`).
 */
import { createWriteStream, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Clock } from './clock.js';
import { type Ctx, envoyLine, haproxyLine, jsonLine, nginxLine } from './lines-app.js';
import {
  auditLine,
  corednsLine,
  etcdLine,
  javaLine,
  kataLine,
  klogLine,
  promLine,
  redisLine,
  vectorLine,
} from './lines-infra.js';
import { buildPools } from './pools.js';
import { Rng } from './rng.js';
import { buildCluster, type Cluster, type Format, type Stream } from './topology.js';

export interface GenOptions {
  readonly lines: number;
  readonly seed: number;
  /** The data set ends just before this time (nanoseconds since the epoch). */
  readonly endNs: bigint;
  /** How far back the data set starts; two hours by default. */
  readonly spanNs?: bigint;
}

export interface GenRecord {
  readonly ts: bigint;
  readonly stream: Stream;
  readonly line: string;
}

export const DEFAULT_LINES = 1_000_000;
export const DEFAULT_SEED = 20_260_301;
export const DEFAULT_SPAN_NS = 2n * 3600n * 1_000_000_000n;

const MIX: readonly [Format, number][] = [
  ['json', 0.5],
  ['kata', 0.2],
  ['plain', 0.25],
  ['audit', 0.05],
];

class Picker {
  private readonly cumulative: number[] = [];
  private total = 0;
  constructor(private readonly items: readonly Stream[]) {
    for (const s of items) {
      this.total += s.weight;
      this.cumulative.push(this.total);
    }
  }
  pick(rng: Rng): Stream {
    const x = rng.float() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo]!;
  }
}

export class DataSet {
  readonly cluster: Cluster;
  constructor(readonly options: GenOptions) {
    this.cluster = buildCluster(new Rng(options.seed));
  }

  /** The records, in time order, `size` at a time. Generating again gives the same records. */
  *batches(size: number): Generator<GenRecord[]> {
    const { lines, seed, endNs } = this.options;
    const span = Number(this.options.spanNs ?? DEFAULT_SPAN_NS);
    const startNs = endNs - BigInt(span);
    const rng = new Rng(seed ^ 0x5bd1e995);
    const ctx: Ctx = { rng, pools: buildPools(new Rng(seed + 7)), clock: new Clock() };
    const pickers = new Map<Format, Picker>();
    for (const [f] of MIX) pickers.set(f, new Picker(this.cluster.streams.filter((s) => s.format === f)));
    const step = span / lines;
    let batch: GenRecord[] = [];
    for (let i = 0; i < lines; i++) {
      // Strictly increasing, not round: a random instant inside the i-th slot of the span.
      const lo = Math.floor(i * step);
      const hi = Math.floor((i + 1) * step);
      const ts = startNs + BigInt(lo + rng.int(Math.max(1, hi - lo)));
      ctx.clock.set(ts);
      const stream = this.pickStream(rng, pickers);
      batch.push({ ts, stream, line: this.line(ctx, stream) });
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  private pickStream(rng: Rng, pickers: Map<Format, Picker>): Stream {
    let x = rng.float();
    for (const [f, share] of MIX) {
      if (x < share) return pickers.get(f)!.pick(rng);
      x -= share;
    }
    return pickers.get('json')!.pick(rng);
  }

  private line(ctx: Ctx, s: Stream): string {
    switch (s.style) {
      case 'kata':
        return kataLine(ctx, s);
      case 'audit':
        return auditLine(ctx, s, this.cluster.nodes);
      case 'nginx':
        return nginxLine(ctx, s);
      case 'envoy':
        return envoyLine(ctx, s);
      case 'haproxy':
        return haproxyLine(ctx, s);
      case 'java':
        return javaLine(ctx, s);
      case 'klog':
        return klogLine(ctx, s);
      case 'coredns':
        return corednsLine(ctx, s);
      case 'promlogfmt':
        return promLine(ctx, s);
      case 'redis':
        return redisLine(ctx, s);
      case 'etcd':
        return etcdLine(ctx, s);
      case 'vector':
        return vectorLine(ctx, s);
      default:
        return jsonLine(ctx, s);
    }
  }
}

/** One line of the raw NDJSON file (without the newline). */
export function ndjsonLine(r: GenRecord): string {
  return `{"ts":"${r.ts}","labels":${JSON.stringify(r.stream.labels)},"line":${JSON.stringify(r.line)}}`;
}

export interface RawSummary {
  lines: number;
  streams: number;
  /** Bytes of the log lines alone (UTF-8). */
  lineBytes: number;
  /** Bytes of the NDJSON file. */
  fileBytes: number;
  byFormat: Record<Format, { lines: number; bytes: number }>;
}

export function emptySummary(streams: number): RawSummary {
  const byFormat = {
    json: { lines: 0, bytes: 0 },
    kata: { lines: 0, bytes: 0 },
    plain: { lines: 0, bytes: 0 },
    audit: { lines: 0, bytes: 0 },
  };
  return { lines: 0, streams, lineBytes: 0, fileBytes: 0, byFormat };
}

/**
 * Writes the raw NDJSON file and calls `onBatch` with each batch of records as it goes, so callers
 * can build push requests from the same records without re-reading the file.
 */
export async function writeRawNdjson(
  data: DataSet,
  path: string,
  batchSize: number,
  onBatch?: (batch: GenRecord[]) => void,
): Promise<RawSummary> {
  const out = createWriteStream(path);
  const summary = emptySummary(data.cluster.streams.length);
  for (const batch of data.batches(batchSize)) {
    let text = '';
    for (const r of batch) {
      const bytes = Buffer.byteLength(r.line);
      summary.lines++;
      summary.lineBytes += bytes;
      const f = summary.byFormat[r.stream.format];
      f.lines++;
      f.bytes += bytes;
      text += `${ndjsonLine(r)}\n`;
    }
    summary.fileBytes += Buffer.byteLength(text);
    onBatch?.(batch);
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return summary;
}

function argValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Line count and seed from flags, then `KJ_BENCH_LINES` / `KJ_BENCH_SEED`, then the defaults. */
export function optionsFromEnv(argv: readonly string[], endNs: bigint): GenOptions {
  const lines = Number(argValue(argv, '--lines') ?? process.env.KJ_BENCH_LINES ?? DEFAULT_LINES);
  const seed = Number(argValue(argv, '--seed') ?? process.env.KJ_BENCH_SEED ?? DEFAULT_SEED);
  if (!Number.isInteger(lines) || lines <= 0) throw new Error(`bad line count: ${lines}`);
  if (!Number.isInteger(seed)) throw new Error(`bad seed: ${seed}`);
  return { lines, seed, endNs };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const endArg = argValue(argv, '--end-ns');
  const endNs = endArg !== undefined ? BigInt(endArg) : BigInt(Date.now()) * 1_000_000n;
  const options = optionsFromEnv(argv, endNs);
  const path = argValue(argv, '--out') ?? 'bench/out/raw.ndjson';
  const t0 = performance.now();
  const s = await writeRawNdjson(new DataSet(options), path, 2000);
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(
    `${JSON.stringify({ path, endNs: String(endNs), ...s, avgLineBytes: s.lineBytes / s.lines, seconds: secs }, null, 1)}\n`,
  );
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((err: unknown) => {
    process.stderr.write(`generate: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
