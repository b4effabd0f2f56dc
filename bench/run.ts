/**
 * @module `npm run bench`: the journal core measured end to end against its targets. Builds the data
 * set into bench/out/, starts `kjournal serve` on a free port with a fresh data directory, pushes every
 * line through the Loki push API, measures storage, query latency against GNU grep, and the server's
 * memory, then prints a summary and writes bench/out/results.json.
 *
 * Environment: KJ_BENCH_LINES (default 1,000,000), KJ_BENCH_SEED, KJ_BENCH_BATCH (2000 lines per
 * push), KJ_BENCH_CONCURRENCY (4 connections), KJ_BENCH_RUNS (7 timed runs per query),
 * KJ_BENCH_KEEP_DATA=1 keeps the server's data directory, KJ_BENCH_PHASES (default
 * `core,clickhouse,agent,receivers`; `agent` alone runs only bench/agent-phase.ts, `receivers`
 * bench/receivers-http.ts and bench/receivers-tcp.ts, whose own variables are listed there),
 * KJ_BENCH_SAME_TIME_LINES (200,000 lines of one stream at one timestamp, after the core phase).
 * Exits 0 whether targets pass or fail;
 * non-zero only when the bench itself could not run.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startClickHouse } from '../test/helpers/clickhouse.js';
import {
  abortAgentPhase,
  agentSinkLines,
  agentVerdicts,
  removeAgentTree,
  runAgentPhase,
} from './agent-phase.js';
import { DataSet, type GenRecord, optionsFromEnv, type RawSummary, writeRawNdjson } from './generate.js';
import { runLogqlQueries } from './logql-phase.js';
import { pushBody } from './proto.js';
import { pushAll } from './push.js';
import { type QueryOutcome, runQueries } from './query-phase.js';
import { receiversHttpVerdicts, runReceiversHttpPhase } from './receivers-http.js';
import { runReceiversPhase } from './receivers-tcp.js';
import { fmtInt, fmtMB, fmtMs, type Verdict, verdictTable } from './report.js';
import { RssSampler } from './rss.js';
import { runSameTime, sameTimeLine } from './same-time.js';
import { envInt, logTail, type ServerUnderTest, startServer, waitReady } from './server.js';
import { dirSize, waitSettled, zstd3 } from './storage.js';

/** Occurs only inside log lines (never in labels), in JSON, logfmt, klog, Java and audit lines. */
const SUBSTRING = 'timeout';
const REGEX = '(timed out|deadline exceeded) after [0-9]+ms';
const HOUR_NS = 3_600_000_000_000n;

const say = (text: string): void => void process.stdout.write(`${text}\n`);

/** What the server should answer, computed from the generated records themselves. */
class Expected {
  newest: bigint[] = [];
  substring = 0;
  regex = 0;
  private readonly re = new RegExp(REGEX);
  constructor(readonly pod: string) {}
  observe(batch: readonly GenRecord[]): void {
    for (const r of batch) {
      if (r.line.includes(SUBSTRING)) this.substring++;
      if (this.re.test(r.line)) this.regex++;
      if (r.stream.pod === this.pod && r.stream.namespace === 'shop') {
        this.newest.push(r.ts);
        if (this.newest.length > 200) this.newest = this.newest.slice(-100);
      }
    }
  }
  newestIn(start: bigint, end: bigint, limit: number): string[] {
    return this.newest
      .filter((t) => t >= start && t < end)
      .slice(-limit)
      .reverse()
      .map(String);
  }
}

let server: ServerUnderTest | undefined;
let dataDir: string | undefined;
let interrupted = false;

/** Removes the server's data directory unless KJ_BENCH_KEEP_DATA=1. */
function removeDataDir(): void {
  if (!dataDir) return;
  if (process.env.KJ_BENCH_KEEP_DATA === '1') say(`kept ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
}

interface PhaseOutcome {
  readonly verdicts: Verdict[];
  readonly results: Record<string, unknown>;
  readonly errors: string[];
  /** Printed after the targets table. */
  readonly after: string[];
}

/** The data set every store phase pushes: built once, pushed into each backend. */
interface Prepared {
  readonly options: ReturnType<typeof optionsFromEnv>;
  readonly endNs: bigint;
  readonly rawPath: string;
  readonly pod: string;
  readonly expected: Expected;
  readonly bodies: Buffer[];
  readonly bodyBytes: number;
  readonly raw: RawSummary;
  readonly avgLine: number;
  readonly zst: { bytes: number; seconds: number };
  readonly batchSize: number;
}

/** Where a store phase keeps the journal: the embedded store, or a ClickHouse of its own. */
interface Backend {
  readonly name: string;
  /** Extra `kjournal serve` arguments. */
  readonly args: readonly string[];
  /**
   * Where the journal's files are, printed as information; the size measured is then the store's
   * own figure (kjournal_store_disk_bytes: ClickHouse's active parts, without the merged-away parts
   * it deletes later, after old_parts_lifetime). Default: the server's data directory, measured.
   */
  readonly diskDir?: string;
  /** Another process whose memory counts (ClickHouse). */
  readonly peerPid?: number;
}

async function prepareData(outDir: string): Promise<Prepared> {
  const batchSize = envInt('KJ_BENCH_BATCH', 2000);
  const endNs = BigInt(Date.now()) * 1_000_000n;
  const options = optionsFromEnv(process.argv.slice(2), endNs);
  const data = new DataSet(options);
  const rawPath = join(outDir, 'raw.ndjson');
  const pod = data.cluster.streams.find((s) => s.namespace === 'shop' && s.app === 'checkout')!.pod;
  const expected = new Expected(pod);

  // 1. Data set: the raw NDJSON file and, from the same records, the pre-encoded push bodies.
  say(
    `# kjournal bench: ${fmtInt(options.lines)} lines, seed ${options.seed}, ${data.cluster.streams.length} streams`,
  );
  const t0 = performance.now();
  const bodies: Buffer[] = [];
  const raw: RawSummary = await writeRawNdjson(data, rawPath, batchSize, (batch) => {
    bodies.push(pushBody(batch));
    expected.observe(batch);
  });
  const bodyBytes = bodies.reduce((n, b) => n + b.length, 0);
  const avgLine = raw.lineBytes / raw.lines;
  say(
    `data set: ${rawPath} ${fmtMB(raw.fileBytes)} raw NDJSON, ${fmtMB(raw.lineBytes)} of log lines (avg ${avgLine.toFixed(1)} B/line)`,
  );
  for (const [f, s] of Object.entries(raw.byFormat)) {
    say(
      `  ${f.padEnd(5)} ${((100 * s.lines) / raw.lines).toFixed(1).padStart(5)}% of lines, avg ${(s.bytes / Math.max(1, s.lines)).toFixed(0)} B`,
    );
  }
  say(
    `  ${bodies.length} push bodies of ${batchSize} lines, ${fmtMB(bodyBytes)} protobuf+snappy; built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const zst = zstd3(rawPath, join(outDir, 'raw.ndjson.zst'));
  say(
    `  zstd -3 of the raw NDJSON: ${fmtMB(zst.bytes)} (${(raw.fileBytes / zst.bytes).toFixed(2)}x) in ${zst.seconds.toFixed(2)} s`,
  );
  return { options, endNs, rawPath, pod, expected, bodies, bodyBytes, raw, avgLine, zst, batchSize };
}

/**
 * The journal core on one backend: ingest, storage, queries, LogQL, the server's memory. With
 * `embedded` (a previous run of the embedded store) the verdicts compare with it.
 */
async function corePhase(
  outDir: string,
  root: string,
  prepared: Prepared,
  backend: Backend = { name: 'embedded', args: [] },
  embedded?: CoreFigures,
): Promise<PhaseOutcome & { figures: CoreFigures }> {
  const { options, endNs, rawPath, pod, expected, bodies, bodyBytes, raw, avgLine, zst, batchSize } =
    prepared;
  const concurrency = envInt('KJ_BENCH_CONCURRENCY', 4);
  const runs = envInt('KJ_BENCH_RUNS', 7);

  // 2. The server.
  const dir = mkdtempSync(join(tmpdir(), 'kjournal-bench-'));
  dataDir = dir;
  const mainJs = join(root, 'dist', 'src', 'cli', 'main.js');
  server = await startServer(mainJs, dir, join(outDir, `server-${backend.name}.log`), backend.args);
  const rss = new RssSampler(server.pid);
  rss.start();
  const peerRss = backend.peerPid === undefined ? undefined : new RssSampler(backend.peerPid);
  peerRss?.start();
  const readyMs = await waitReady(server);
  say(`server: pid ${server.pid} at ${server.baseUrl}, data ${dir}, ready in ${fmtMs(readyMs)}`);

  // 3. Ingest.
  rss.mark('ingest');
  const ingest = await pushAll(server.baseUrl, bodies, concurrency);
  const linesPerS = raw.lines / ingest.seconds;
  const retried = Object.entries(ingest.retried);
  say(
    `ingest: ${fmtInt(raw.lines)} lines in ${ingest.seconds.toFixed(2)} s over ${concurrency} connections: ` +
      `${fmtInt(linesPerS)} lines/s, ${(raw.lineBytes / 1e6 / ingest.seconds).toFixed(1)} MB/s of log lines ` +
      `(request median ${fmtMs(ingest.latencyMedianMs)}, max ${fmtMs(ingest.latencyMaxMs)})` +
      (retried.length ? `; RETRIED: ${retried.map(([s, n]) => `${n}x ${s}`).join(', ')}` : ''),
  );

  // 4. Storage, once the store has settled.
  rss.mark('settle');
  const settled = await waitSettled(server.baseUrl, dir);
  const files = dirSize(backend.diskDir ?? dir);
  const disk = backend.diskDir === undefined ? files : { ...files, bytes: settled.metricBytes ?? Number.NaN };
  if (backend.diskDir !== undefined) {
    say(
      `storage (${backend.name}): ${fmtMB(disk.bytes)} in active parts (kjournal_store_disk_bytes); ${fmtMB(files.bytes)} of files in ${files.files} under ${backend.diskDir}, merged-away parts included`,
    );
  }
  say(
    `storage: kjournal_store_disk_bytes ${settled.metricBytes === undefined ? 'ABSENT from /metrics' : fmtMB(settled.metricBytes)}` +
      ` (${settled.settled ? 'settled' : 'NOT settled'} after ${(settled.waitedMs / 1000).toFixed(0)} s); files under the data dir ${fmtMB(disk.bytes)} in ${disk.files} files (du ${fmtMB(disk.allocatedBytes)}; ${Object.entries(
        disk.byTop,
      )
        .map(([k, v]) => `${k} ${fmtMB(v)}`)
        .join(', ')})`,
  );
  say(
    `  vs raw NDJSON ${fmtMB(raw.fileBytes)}: ${(raw.fileBytes / disk.bytes).toFixed(2)}x smaller; vs zstd -3 ${fmtMB(zst.bytes)}: ${(disk.bytes / zst.bytes).toFixed(2)}x its size`,
  );

  // 5. Queries.
  rss.mark('queries');
  const now = BigInt(Date.now()) * 1_000_000n;
  const dataStart = endNs - (options.spanNs ?? 2n * HOUR_NS);
  const q = await runQueries({
    baseUrl: server.baseUrl,
    runs,
    rawPath,
    now,
    hourNs: HOUR_NS,
    pod,
    expectedNewest: expected.newestIn(now - HOUR_NS, now, 100),
    rangeHours: Math.max(3, Number((now - dataStart) / HOUR_NS) + 1),
    substring: SUBSTRING,
    expectedSubstring: expected.substring,
    regex: REGEX,
    expectedRegex: expected.regex,
  });
  const lq = await runLogqlQueries({
    baseUrl: server.baseUrl,
    runs,
    rawPath,
    now,
    namespace: 'shop',
    rangeHours: Math.max(3, Number((now - dataStart) / HOUR_NS) + 1),
  });
  const errors = [q.newest, q.substring, q.regex, lq.metricRange, lq.jsonFilter, lq.tail]
    .filter((o) => o.error !== undefined)
    .map((o) => `${o.query}: ${o.error}`);

  // 6. Memory (in MiB, the unit of the target), then stop.
  const fmtMiB = (kb: number): string => `${(kb / 1024).toFixed(1)} MiB`;
  const mem = rss.stop();
  const peakKb = Math.max(mem.peakRssKb, mem.hwmKb ?? 0);
  const peer = peerRss?.stop();
  if (peer)
    say(
      `memory of ClickHouse: peak sampled VmRSS ${fmtMiB(peer.peakRssKb)}, VmHWM ${peer.hwmKb === undefined ? '?' : fmtMiB(peer.hwmKb)}`,
    );
  say(
    `memory: peak sampled VmRSS ${fmtMiB(mem.peakRssKb)} over ${mem.samples} samples, VmHWM ${mem.hwmKb === undefined ? '?' : fmtMiB(mem.hwmKb)}; ` +
      `by phase ${Object.entries(rss.byPhase)
        .map(([p, kb]) => `${p} ${fmtMiB(kb)}`)
        .join(', ')}`,
  );
  await server.stop();
  const exitedAs = server.exited;
  const diskAfter = dirSize(dir);
  say(
    `server stopped (${exitedAs}); files under the data dir after shutdown ${fmtMB(diskAfter.bytes)} in ${diskAfter.files} files`,
  );
  removeDataDir();

  // 7. Verdicts.
  const at1M = options.lines >= 1_000_000 ? undefined : `measured at ${fmtInt(options.lines)} lines`;
  const ms = (o: QueryOutcome): number => o.timing?.medianMs ?? Number.NaN;
  const failed = (o: QueryOutcome): string | undefined =>
    o.error ? 'query failed' : o.agrees ? undefined : 'wrong answer';
  const figures: CoreFigures = {
    linesPerS,
    diskBytes: disk.bytes,
    queries: {
      'newest 100 lines': ms(q.newest),
      'substring count': ms(q.substring),
      'regex count': ms(q.regex),
      'count_over_time 1m over 24h': ms(lq.metricRange),
      '| json | level="error"': ms(lq.jsonFilter),
      '/tail delivery': ms(lq.tail),
    },
  };
  if (embedded) {
    const allRight = [q.newest, q.substring, q.regex, lq.metricRange, lq.jsonFilter, lq.tail].every(
      (o) => o.error === undefined && o.agrees,
    );
    const verdicts: Verdict[] = [
      {
        target: `${backend.name}: ingest >= 150,000 lines/s durable`,
        measured: `${fmtInt(linesPerS)} lines/s (embedded ${fmtInt(embedded.linesPerS)})`,
        pass: linesPerS >= 150_000,
      },
      {
        target: `${backend.name}: bytes on disk <= zstd -3 of raw NDJSON`,
        measured: `${fmtMB(disk.bytes)} vs ${fmtMB(zst.bytes)} (embedded ${fmtMB(embedded.diskBytes)})`,
        pass: disk.bytes <= zst.bytes,
      },
      ...Object.entries(figures.queries).map(([name, t]) => {
        const base = embedded.queries[name] ?? Number.NaN;
        return {
          target: `${backend.name}: ${name} within 2x the embedded store`,
          measured: `${fmtMs(t)} vs ${fmtMs(base)} (${(t / base).toFixed(2)}x)`,
          pass: t <= 2 * base,
        };
      }),
      {
        target: `${backend.name}: every answer right`,
        measured: allRight ? 'all agree' : 'some differ or failed',
        pass: allRight,
      },
    ];
    return {
      verdicts,
      figures,
      errors: errors.map((e) => `${backend.name}: ${e}`),
      after: [],
      results: {
        ingest: { ...ingest, linesPerSecond: linesPerS },
        diskBytes: disk.bytes,
        queries: q,
        logql: lq,
        memory: { ...mem, peakKb },
        peerMemory: peer,
      },
    };
  }
  const verdicts: Verdict[] = [
    {
      target: 'ingest >= 150,000 lines/s durable',
      measured: `${fmtInt(linesPerS)} lines/s`,
      pass: linesPerS >= 150_000,
    },
    {
      target: 'bytes on disk <= zstd -3 of raw NDJSON',
      measured: `${fmtMB(disk.bytes)} vs ${fmtMB(zst.bytes)}`,
      pass: disk.bytes <= zst.bytes,
    },
    {
      target: 'substring count <= grep -c time',
      measured: `${fmtMs(ms(q.substring))} vs ${fmtMs(q.substring.grep.timing.medianMs)}`,
      pass: ms(q.substring) <= q.substring.grep.timing.medianMs && q.substring.agrees,
      note: failed(q.substring),
    },
    {
      target: 'newest 100 lines median < 50 ms (1M lines)',
      measured: fmtMs(ms(q.newest)),
      pass: ms(q.newest) < 50 && q.newest.agrees,
      note: failed(q.newest) ?? at1M,
    },
    {
      target: 'server RSS < 512 MiB throughout',
      measured: `peak ${fmtMiB(peakKb)}`,
      pass: peakKb < 512 * 1024,
    },
    {
      target: 'count_over_time 1m steps over 24h, one namespace: median < 100 ms',
      measured: fmtMs(ms(lq.metricRange)),
      pass: ms(lq.metricRange) < 100 && lq.metricRange.agrees,
      note: failed(lq.metricRange) ?? at1M,
    },
    {
      target: '| json | level="error" over all data <= jq',
      measured: `${fmtMs(ms(lq.jsonFilter))} vs ${lq.jsonFilter.jq ? fmtMs(lq.jsonFilter.jq.medianMs) : '?'}`,
      pass: lq.jsonFilter.ratio !== undefined && lq.jsonFilter.ratio <= 1 && lq.jsonFilter.agrees,
      note: failed(lq.jsonFilter),
    },
    {
      target: '/tail delivers a pushed line within 1 s',
      measured: fmtMs(ms(lq.tail)),
      pass: ms(lq.tail) < 1000 && lq.tail.agrees,
      note: failed(lq.tail),
    },
  ];
  const after = [
    `(info) regex count: ${fmtMs(ms(q.regex))} vs grep -c -E ${fmtMs(q.regex.grep.timing.medianMs)}` +
      (q.regex.error
        ? ' (query failed)'
        : `, ratio ${(ms(q.regex) / q.regex.grep.timing.medianMs).toFixed(2)}`),
  ];

  const results = {
    config: {
      ...options,
      endNs: String(endNs),
      batchSize,
      concurrency,
      runs,
      warmup: 'one warm-up run, excluded',
    },
    dataset: {
      ...raw,
      avgLineBytes: avgLine,
      pushBodies: bodies.length,
      pushBodyBytes: bodyBytes,
      zstd3Bytes: zst.bytes,
    },
    ingest: { ...ingest, linesPerSecond: linesPerS, lineMBPerSecond: raw.lineBytes / 1e6 / ingest.seconds },
    storage: {
      metricBytes: settled.metricBytes,
      settled: settled.settled,
      dataDir: disk,
      dataDirAfterShutdown: diskAfter,
      rawBytes: raw.fileBytes,
      zstd3Bytes: zst.bytes,
      ratioVsRaw: raw.fileBytes / disk.bytes,
      ratioVsZstd3: disk.bytes / zst.bytes,
    },
    queries: q,
    logql: lq,
    memory: { ...mem, peakKb, byPhaseKb: rss.byPhase },
    server: { exited: exitedAs, log: server.logPath },
  };
  return { verdicts, results, errors, after, figures };
}

/** What the ClickHouse phase compares with. */
interface CoreFigures {
  readonly linesPerS: number;
  readonly diskBytes: number;
  readonly queries: Record<string, number>;
}

/**
 * The same data set and queries with the journal in ClickHouse: a private clickhouse-server
 * (Debian's 18.16, ZSTD parts) on the same 2 cores, started and removed here.
 */
async function clickhousePhase(
  outDir: string,
  root: string,
  prepared: Prepared,
  embedded: CoreFigures | undefined,
): Promise<PhaseOutcome> {
  const ch = await startClickHouse();
  try {
    say(`clickhouse: pid ${ch.child.pid} at ${ch.url}, data ${ch.dir}`);
    const out = await corePhase(
      outDir,
      root,
      prepared,
      {
        name: 'clickhouse',
        args: ['--clickhouse-url', ch.url],
        diskDir: join(ch.dir, 'data', 'data', 'kjournal'),
        ...(ch.child.pid === undefined ? {} : { peerPid: ch.child.pid }),
      },
      embedded ?? { linesPerS: Number.NaN, diskBytes: Number.NaN, queries: {} },
    );
    return out;
  } finally {
    await ch.stop();
  }
}

async function main(): Promise<void> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const outDir = join(root, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const phases = new Set(
    (process.env.KJ_BENCH_PHASES ?? 'core,clickhouse,agent,receivers').split(',').map((p) => p.trim()),
  );
  for (const p of phases) {
    if (p !== 'core' && p !== 'clickhouse' && p !== 'agent' && p !== 'receivers') {
      throw new Error(`KJ_BENCH_PHASES: unknown phase ${p} (core, clickhouse, agent, receivers)`);
    }
  }
  const verdicts: Verdict[] = [];
  const errors: string[] = [];
  const after: string[] = [];
  let results: Record<string, unknown> = { when: new Date().toISOString(), phases: [...phases] };
  const prepared = phases.has('core') || phases.has('clickhouse') ? await prepareData(outDir) : undefined;
  let embedded: CoreFigures | undefined;
  if (phases.has('core')) {
    const core = await corePhase(outDir, root, prepared!);
    verdicts.push(...core.verdicts);
    errors.push(...core.errors);
    after.push(...core.after);
    results = { ...results, ...core.results };
    embedded = core.figures;
    // Whole-second senders: many lines of one stream at one timestamp (bench/same-time.ts).
    const same = await runSameTime(Number(process.env.KJ_BENCH_SAME_TIME_LINES ?? 200_000), 1000);
    after.push(sameTimeLine(same));
    results = { ...results, sameTime: same };
  }
  if (phases.has('clickhouse')) {
    say('');
    say(
      '# clickhouse phase: the same lines and queries with the journal in ClickHouse (serve --clickhouse-url)',
    );
    const ch = await clickhousePhase(outDir, root, prepared!, embedded);
    verdicts.push(...ch.verdicts);
    errors.push(...ch.errors);
    results = { ...results, clickhouse: ch.results };
  }
  if (phases.has('agent')) {
    say('');
    say('# agent phase: kjournal agent tails CRI pod logs into a fresh server');
    const agent = await runAgentPhase(root, outDir);
    verdicts.push(...agentVerdicts(agent));
    if (agent.error !== undefined) errors.push(`agent phase: ${agent.error}`);
    results = { ...results, agent };
    if (process.env.KJ_BENCH_AGENT_SINK !== '0') {
      say('');
      say('# agent phase, again into an acknowledging sink: the agent alone');
      const alone = await runAgentPhase(root, outDir, true);
      after.push(...agentSinkLines(alone));
      if (alone.error !== undefined) errors.push(`agent phase (sink): ${alone.error}`);
      results = { ...results, agentAlone: alone };
    }
    removeAgentTree();
  }
  if (phases.has('receivers')) {
    // The socket receivers first: run after the HTTP receivers' half in the same bench process,
    // the forward figure (acknowledged chunks from fluent-logger in worker threads of this process)
    // came out at 65-77k lines/s against 97-111k when run first, five runs each way, though the
    // bench's own threads were idle during it in both (profiled) and no process was left over. The
    // cause is in this harness, not found; the order keeps it out of the figure.
    say('');
    say('# receivers phase: the same lines through the Loki push, forward, syslog, Splunk HEC and GELF');
    const recvTcp = await runReceiversPhase(join(root, 'dist', 'src', 'cli', 'main.js'), outDir);
    verdicts.push(...recvTcp.verdicts);
    if (recvTcp.error !== undefined) errors.push(`receivers phase: ${recvTcp.error}`);
    results = { ...results, receivers: recvTcp.figures };
    say('');
    say(
      '# receivers phase: the same lines through each HTTP receiver with its real client (bench/receivers-http.ts)',
    );
    const recv = await runReceiversHttpPhase(root, outDir);
    verdicts.push(...receiversHttpVerdicts(recv));
    for (const r of recv.runs)
      if (r.error !== undefined) errors.push(`receivers phase: ${r.receiver}: ${r.error}`);
    results = { ...results, receiversHttp: recv };
  }
  say('');
  say(verdictTable(verdicts));
  for (const line of after) say(line);
  results = { ...results, verdicts, errors };
  const round = (_k: string, v: unknown): unknown =>
    typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v;
  writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, round, 2)}\n`);
  say(`results: ${join(outDir, 'results.json')}`);
  if (errors.length > 0) {
    process.stderr.write(`bench: ${errors.length} failure(s):\n${errors.map((e) => `  ${e}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    say(`${signal}: stopping the server`);
    interrupted = true;
    void Promise.all([server?.stop(), abortAgentPhase()]).finally(() => {
      removeDataDir();
      process.exit(130);
    });
  });
}

main().catch(async (err: unknown) => {
  if (interrupted) return;
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  if (server) {
    process.stderr.write(`server log tail (${server.logPath}):\n${logTail(server.logPath)}\n`);
    await server.stop().catch(() => {});
  }
  if (dataDir) process.stderr.write(`the server's data directory is left for inspection: ${dataDir}\n`);
  process.exitCode = 1;
});
