/**
 * @module The HTTP receivers' phase of `npm run bench` (issue 17): the same generated lines sent
 * through each HTTP receiver by its real client, each into a fresh `kjournal serve`, timed from the
 * first send until the last acknowledgement (every receiver answers only once its records are
 * durable), beside the Loki push of the same lines (pre-encoded protobuf+snappy bodies, as the core
 * phase sends them). Target: each receiver at least 70% of the Loki push's lines/s.
 *  - OTLP/HTTP: the OpenTelemetry JS SDK's records (one LoggerProvider per stream, its resource the
 *    stream's Kubernetes attributes) exported by `@opentelemetry/exporter-logs-otlp-proto` and
 *    `-http` (JSON), batches of KJ_BENCH_BATCH records, KJ_BENCH_CONCURRENCY exports at once;
 *  - Elasticsearch bulk: `@elastic/elasticsearch`'s bulk helper, documents shaped as Fluent Bit's
 *    (`@timestamp`, `message`, `kubernetes.*`), flushes of ~1 MB, the same concurrency;
 *  - Splunk HEC: events serialised by `splunk-logging`'s own `_makeBody` (what its `send` queues and
 *    `flush` joins into one request), metadata as Splunk Connect for Kubernetes sends it (`host`
 *    the node, `sourcetype` kube:container:NAME, `source` the container's log path), batches of
 *    KJ_BENCH_BATCH events to `/services/collector/event`;
 *  - journal upload: Debian's `systemd-journal-upload --directory` of journal files holding the
 *    lines (made beforehand by `systemd-journal-remote`, not timed; it rotates a file past its size
 *    limit, hence the directory); skipped with a note when the programs are missing.
 * SDK records, journal files and push bodies are built before the clock starts; the clients'
 * serialisation is timed, as it is part of sending.
 *
 * Each receiver runs KJ_BENCH_RECV_ROUNDS times (default 3), round after round beside the Loki
 * push, and the verdicts compare medians: one run of a second or two swings with whatever else the
 * two shared cores do (the Loki push alone measured 185-265k lines/s in one hour).
 *
 * Environment: KJ_BENCH_RECV_LINES (default 200,000), KJ_BENCH_BATCH (2000), KJ_BENCH_CONCURRENCY (4),
 * KJ_BENCH_RECV_ROUNDS (3), KJ_BENCH_RECV_LIVE=0 skips the live clients' runs, KJ_BENCH_RECV_ONLY
 * (words: `journal otlp`) runs only the receivers whose names hold one of them, beside the Loki push.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { formatRfc3339 } from '../src/go/time.js';
import { DataSet, DEFAULT_SEED, type GenRecord } from './generate.js';
import { pushBody } from './proto.js';
import { httpRequest, pushAll } from './push.js';
import { fmtInt, median, type Verdict } from './report.js';
import {
  cpuSeconds,
  envInt,
  envWords,
  metricSum,
  type ServerUnderTest,
  startServer,
  waitReady,
} from './server.js';
import type { Stream } from './topology.js';

const require = createRequire(import.meta.url);
const say = (text: string): void => void process.stdout.write(`${text}\n`);
const JOURNAL_REMOTE = '/usr/lib/systemd/systemd-journal-remote';
const JOURNAL_UPLOAD = '/usr/lib/systemd/systemd-journal-upload';
const TARGET_RATIO = 0.7;

export interface ReceiverRun {
  readonly receiver: string;
  readonly client: string;
  readonly lines: number;
  readonly seconds?: number;
  readonly linesPerSecond?: number;
  /** Lines stored as the server counts them (kjournal_ingested_lines_total). */
  readonly stored?: number;
  /** The server's CPU time (user + system) during the send: the cost on a machine shared with others. */
  readonly serverCpuSeconds?: number;
  readonly linesPerServerCpuSecond?: number;
  readonly error?: string;
  readonly skipped?: string;
}

export interface ReceiversHttpOutcome {
  readonly lines: number;
  /** Every run, round after round. */
  readonly runs: ReceiverRun[];
  /** Per receiver, the medians the verdicts compare. */
  readonly medians: ReceiverMedian[];
}

/** The stream's Kubernetes metadata as an OTLP resource (semantic conventions' names). */
function resourceOf(s: Stream): Record<string, string> {
  const r: Record<string, string> = { 'service.name': s.app, 'k8s.node.name': s.node };
  if (s.namespace !== '') r['k8s.namespace.name'] = s.namespace;
  if (s.labels.pod !== undefined) r['k8s.pod.name'] = s.labels.pod;
  if (s.labels.container !== undefined) r['k8s.container.name'] = s.labels.container;
  return r;
}

/** The SDK's records, in batches, made by one LoggerProvider per stream. */
function sdkBatches(batches: readonly GenRecord[][]): ReadableLogRecord[][] {
  const memory = new InMemoryLogRecordExporter();
  const loggers = new Map<string, ReturnType<LoggerProvider['getLogger']>>();
  const out: ReadableLogRecord[][] = [];
  for (const batch of batches) {
    for (const r of batch) {
      let logger = loggers.get(r.stream.key);
      if (!logger) {
        const provider = new LoggerProvider({
          resource: resourceFromAttributes(resourceOf(r.stream)),
          processors: [new SimpleLogRecordProcessor({ exporter: memory })],
        });
        logger = provider.getLogger('bench');
        loggers.set(r.stream.key, logger);
      }
      // The SDK takes [seconds, nanoseconds] exactly.
      logger.emit({
        body: r.line,
        timestamp: [Number(r.ts / 1_000_000_000n), Number(r.ts % 1_000_000_000n)],
      });
    }
    out.push(memory.getFinishedLogRecords());
    memory.reset();
  }
  return out;
}

type OtlpExporter = {
  export(r: ReadableLogRecord[], cb: (res: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
};

async function exportAll(
  exporter: OtlpExporter,
  batches: readonly ReadableLogRecord[][],
  concurrency: number,
) {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      const res = await new Promise<{ code: number; error?: Error }>((resolve) =>
        exporter.export(batch, resolve),
      );
      if (res.code !== 0) throw new Error(`OTLP export failed: ${res.error?.message ?? res.code}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await exporter.shutdown();
}

/**
 * Posts pre-encoded bodies over `concurrency` keep-alive connections; each answer must be 200 and
 * pass `check` (an Elasticsearch bulk answer must say `errors: false`).
 */
async function postAll(
  url: string,
  bodies: readonly Buffer[],
  headers: Record<string, string>,
  concurrency: number,
  check: (body: string) => boolean = () => true,
): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const res = await httpRequest(agent, url, 'POST', bodies[next++]!, headers);
      if (res.status !== 200 || !check(res.body)) {
        throw new Error(`${url} answered ${res.status}: ${res.body.slice(0, 300)}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
}

/** A document as Fluent Bit's es output writes one from a container's log line. */
function esDoc(r: GenRecord): Record<string, unknown> {
  const s = r.stream;
  return {
    '@timestamp': formatRfc3339(r.ts),
    message: r.line,
    kubernetes: {
      ...(s.namespace !== '' ? { namespace_name: s.namespace } : {}),
      ...(s.labels.pod !== undefined ? { pod_name: s.labels.pod } : {}),
      ...(s.labels.container !== undefined ? { container_name: s.labels.container } : {}),
      host: s.node,
    },
  };
}

/**
 * HEC request bodies as splunk-logging makes them: each event through its `_makeBody` (the line as
 * the event: `eventFormatter` returns the message) and `JSON.stringify`, joined with nothing
 * between them as its `flush` does.
 */
function hecBodies(batches: readonly GenRecord[][]): Buffer[] {
  // biome-ignore lint/suspicious/noExplicitAny: splunk-logging is untyped
  const Logger = (require('splunk-logging') as any).Logger;
  const logger = new Logger({ token: 'bench', url: 'http://127.0.0.1:1', eventFormatter: (m: string) => m });
  return batches.map((b) =>
    Buffer.from(
      b
        .map((r) => {
          const s = r.stream;
          const container = s.labels.container ?? s.app;
          const metadata = {
            time: Number(r.ts / 1_000_000n),
            host: s.node,
            source: `/var/log/containers/${s.labels.pod ?? s.app}_${s.namespace}_${container}.log`,
            sourcetype: `kube:container:${container}`,
          };
          return JSON.stringify(logger._makeBody({ message: r.line, metadata }));
        })
        .join(''),
    ),
  );
}

/** Journal export format of the lines (binary-safe fields for control characters). */
function exportStream(batches: readonly GenRecord[][]): Buffer {
  const parts: Buffer[] = [];
  for (const batch of batches) {
    for (const r of batch) {
      const us = r.ts / 1000n;
      parts.push(
        Buffer.from(
          `__REALTIME_TIMESTAMP=${us}\n__MONOTONIC_TIMESTAMP=${us}\n_BOOT_ID=590edceeef5545a784ec8c6181a10400\n_HOSTNAME=${r.stream.node}\nSYSLOG_IDENTIFIER=${r.stream.app}\n`,
        ),
      );
      // biome-ignore lint/suspicious/noControlCharactersInRegex: binary-safe fields are for control bytes
      if (/[\x00-\x1f]/.test(r.line)) {
        const bytes = Buffer.from(r.line, 'utf8');
        const size = Buffer.alloc(8);
        size.writeBigUInt64LE(BigInt(bytes.length));
        parts.push(Buffer.from('MESSAGE\n'), size, bytes, Buffer.from('\n\n'));
      } else parts.push(Buffer.from(`MESSAGE=${r.line}\n\n`));
    }
  }
  return Buffer.concat(parts);
}

function run(cmd: string, args: string[], stdin?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}: ${stderr.slice(-500)}`)),
    );
    if (stdin) child.stdin!.end(stdin);
  });
}

async function storedLines(baseUrl: string): Promise<number> {
  return metricSum(await (await fetch(`${baseUrl}/metrics`)).text(), 'kjournal_ingested_lines_total');
}

/** Runs `send` against a fresh server; the time is the send's. */
async function onFreshServer(
  root: string,
  outDir: string,
  name: string,
  send: (server: ServerUnderTest) => Promise<void>,
): Promise<{ seconds: number; stored: number; cpu: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'kjournal-bench-recv-'));
  const server = await startServer(
    join(root, 'dist', 'src', 'cli', 'main.js'),
    dir,
    join(outDir, `server-${name}.log`),
  );
  try {
    await waitReady(server);
    const cpu0 = cpuSeconds(server.pid) ?? 0;
    const t0 = performance.now();
    await send(server);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = (cpuSeconds(server.pid) ?? cpu0) - cpu0;
    return { seconds, stored: await storedLines(server.baseUrl), cpu };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runReceiversHttpPhase(root: string, outDir: string): Promise<ReceiversHttpOutcome> {
  const lines = envInt('KJ_BENCH_RECV_LINES', 200_000);
  const batchSize = envInt('KJ_BENCH_BATCH', 2000);
  const concurrency = envInt('KJ_BENCH_CONCURRENCY', 4);
  const rounds = envInt('KJ_BENCH_RECV_ROUNDS', 3);
  const data = new DataSet({ lines, seed: DEFAULT_SEED, endNs: BigInt(Date.now()) * 1_000_000n });
  const batches = [...data.batches(batchSize)];
  const runs: ReceiverRun[] = [];
  const only = envWords('KJ_BENCH_RECV_ONLY').map((w) => w.toLowerCase());
  const measure = async (receiver: string, client: string, send: (s: ServerUnderTest) => Promise<void>) => {
    const name = receiver.toLowerCase();
    if (receiver !== 'Loki push' && only.length > 0 && !only.some((w) => name.includes(w))) return;
    try {
      const { seconds, stored, cpu } = await onFreshServer(root, outDir, receiver.replace(/\W+/g, '-'), send);
      const r: ReceiverRun = {
        receiver,
        client,
        lines,
        seconds,
        linesPerSecond: lines / seconds,
        stored,
        serverCpuSeconds: cpu,
        linesPerServerCpuSecond: lines / Math.max(cpu, 0.01),
      };
      runs.push(r);
      say(
        `  ${receiver.padEnd(22)} ${fmtInt(r.linesPerSecond!).padStart(9)} lines/s  ${fmtInt(r.linesPerServerCpuSecond!).padStart(9)} lines/server-CPU-s  (${seconds.toFixed(2)} s, server CPU ${cpu.toFixed(2)} s, ${fmtInt(stored)} stored; ${client})`,
      );
    } catch (err) {
      runs.push({ receiver, client, lines, error: (err as Error).message });
      say(`  ${receiver.padEnd(22)} FAILED: ${(err as Error).message}`);
    }
  };

  say(
    `${fmtInt(lines)} lines, batches of ${batchSize}, ${concurrency} at once, each receiver into a fresh server, ${rounds} rounds (medians compared)`,
  );
  const bodies = batches.map((b) => pushBody(b));
  // Bodies encoded by each client library's own serializer, sent as the Loki bodies are.
  const sdk = sdkBatches(batches);
  const protoBodies = sdk.map((b) => Buffer.from(ProtobufLogsSerializer.serializeRequest(b)!));
  const jsonBodies = sdk.map((b) => Buffer.from(JsonLogsSerializer.serializeRequest(b)!));
  const es = new Client({ node: 'http://127.0.0.1:1' });
  const ndjsonBodies = batches.map((b) =>
    Buffer.from(es.serializer.ndserialize(b.flatMap((r) => [{ create: { _index: 'bench' } }, esDoc(r)]))),
  );
  await es.close();
  const hec = hecBodies(batches);
  /** The receivers sent pre-encoded bodies, each answered 200 (a bulk answer must say no errors). */
  const posted: {
    receiver: string;
    client: string;
    path: string;
    bodies: readonly Buffer[];
    headers: Record<string, string>;
    check?: (body: string) => boolean;
  }[] = [
    {
      receiver: 'OTLP/HTTP protobuf',
      client: 'bodies by otlp-transformer ProtobufLogsSerializer',
      path: '/otlp/v1/logs',
      bodies: protoBodies,
      headers: { 'content-type': 'application/x-protobuf' },
    },
    {
      receiver: 'OTLP/HTTP JSON',
      client: 'bodies by otlp-transformer JsonLogsSerializer',
      path: '/otlp/v1/logs',
      bodies: jsonBodies,
      headers: { 'content-type': 'application/json' },
    },
    {
      receiver: 'Elasticsearch bulk',
      client: 'bodies by @elastic/elasticsearch ndserialize',
      path: '/_bulk',
      bodies: ndjsonBodies,
      headers: { 'content-type': 'application/x-ndjson' },
      check: (body) => body.includes('"errors":false'),
    },
    {
      receiver: 'Splunk HEC',
      client: 'bodies by splunk-logging _makeBody',
      path: '/services/collector/event',
      bodies: hec,
      headers: { authorization: 'Splunk bench', 'content-type': 'application/json' },
    },
  ];
  const journalTools = existsSync(JOURNAL_UPLOAD) && existsSync(JOURNAL_REMOTE);
  const journalDir = mkdtempSync(join(tmpdir(), 'kjournal-bench-journal-'));
  try {
    if (journalTools) {
      const file = join(journalDir, 'bench.journal');
      await run(JOURNAL_REMOTE, [`--output=${file}`, '--split-mode=none', '-'], exportStream(batches));
    } else {
      const why = 'systemd-journal-upload or systemd-journal-remote missing (Debian systemd-journal-remote)';
      runs.push({ receiver: 'journal upload', client: 'systemd-journal-upload', lines, skipped: why });
      say(`  journal upload: skipped: ${why}`);
    }
    // Rounds, each receiver once per round beside the Loki push: one run is at the mercy of what
    // else the machine does in its second or two; the verdicts compare medians.
    for (let round = 1; round <= rounds; round++) {
      if (rounds > 1) say(` round ${round} of ${rounds}`);
      await measure('Loki push', 'protobuf+snappy bodies', async (s) => {
        await pushAll(s.baseUrl, bodies, concurrency);
      });
      for (const p of posted) {
        await measure(p.receiver, p.client, (s) =>
          postAll(`${s.baseUrl}${p.path}`, p.bodies, p.headers, concurrency, p.check),
        );
      }
      if (journalTools) {
        await measure('journal upload', 'systemd-journal-upload --directory --follow=no', (s) =>
          run(JOURNAL_UPLOAD, [`--url=${s.baseUrl}`, `--directory=${journalDir}`, '--follow=no']),
        );
      }
    }
  } finally {
    rmSync(journalDir, { recursive: true, force: true });
  }

  // The same through the live clients (their encoding timed too, on the bench's own CPU): for
  // information, not held to the target.
  if (process.env.KJ_BENCH_RECV_LIVE !== '0') {
    await measure('(live) OTLP protobuf', '@opentelemetry/exporter-logs-otlp-proto export()', (s) =>
      exportAll(new ProtoExporter({ url: `${s.baseUrl}/otlp/v1/logs` }) as OtlpExporter, sdk, concurrency),
    );
    await measure('(live) OTLP JSON', '@opentelemetry/exporter-logs-otlp-http export()', (s) =>
      exportAll(new JsonExporter({ url: `${s.baseUrl}/otlp/v1/logs` }) as OtlpExporter, sdk, concurrency),
    );
    const docs = batches.flatMap((b) => b.map(esDoc));
    await measure('(live) Elasticsearch', '@elastic/elasticsearch helpers.bulk', async (s) => {
      const client = new Client({ node: s.baseUrl });
      try {
        const stats = await client.helpers.bulk({
          datasource: docs,
          onDocument: () => ({ create: { _index: 'bench' } }),
          flushBytes: 1_000_000,
          concurrency,
        });
        if (stats.failed > 0) throw new Error(`${stats.failed} documents failed`);
      } finally {
        await client.close();
      }
    });
  }
  const medians = mediansOf(runs);
  if (rounds > 1) {
    say(' medians:');
    for (const m of medians) {
      say(
        `  ${m.receiver.padEnd(22)} ${fmtInt(m.linesPerSecond).padStart(9)} lines/s  ${fmtInt(m.linesPerServerCpuSecond).padStart(9)} lines/server-CPU-s  (${m.runs} runs: ${m.each.map((x) => fmtInt(x)).join(', ')})`,
      );
    }
  }
  return { lines, runs, medians };
}

/** A receiver's median over its rounds. */
export interface ReceiverMedian {
  readonly receiver: string;
  readonly runs: number;
  readonly linesPerSecond: number;
  readonly linesPerServerCpuSecond: number;
  /** Each run's lines/s, in order. */
  readonly each: number[];
  /** Every run stored every line and none failed. */
  readonly complete: boolean;
}

function mediansOf(runs: readonly ReceiverRun[]): ReceiverMedian[] {
  const names = [...new Set(runs.filter((r) => r.skipped === undefined).map((r) => r.receiver))];
  return names.map((receiver) => {
    const mine = runs.filter((r) => r.receiver === receiver);
    const ok = mine.filter((r) => r.linesPerSecond !== undefined);
    return {
      receiver,
      runs: mine.length,
      linesPerSecond: ok.length ? median(ok.map((r) => r.linesPerSecond!)) : 0,
      linesPerServerCpuSecond: ok.length ? median(ok.map((r) => r.linesPerServerCpuSecond!)) : 0,
      each: ok.map((r) => r.linesPerSecond!),
      complete: ok.length === mine.length && mine.every((r) => r.stored === r.lines),
    };
  });
}

/** Each receiver's median against the Loki push's median. */
export function receiversHttpVerdicts(o: ReceiversHttpOutcome): Verdict[] {
  const loki = o.medians.find((m) => m.receiver === 'Loki push');
  return o.medians
    .filter((m) => m.receiver !== 'Loki push' && !m.receiver.startsWith('(live)'))
    .map((m) => {
      const ratio = loki && loki.linesPerSecond > 0 ? m.linesPerSecond / loki.linesPerSecond : undefined;
      const cpuRatio =
        loki && loki.linesPerServerCpuSecond > 0
          ? m.linesPerServerCpuSecond / loki.linesPerServerCpuSecond
          : undefined;
      const failed = o.runs.find((r) => r.receiver === m.receiver && r.error !== undefined);
      return {
        target: `${m.receiver} >= 70% of the Loki push rate (medians of ${m.runs})`,
        measured:
          m.each.length === 0
            ? 'failed'
            : `${fmtInt(m.linesPerSecond)} lines/s (${ratio === undefined ? '?' : `${Math.round(ratio * 100)}%`} of ${fmtInt(loki?.linesPerSecond ?? 0)}; per server CPU-s ${cpuRatio === undefined ? '?' : `${Math.round(cpuRatio * 100)}%`})`,
        pass: ratio !== undefined && ratio >= TARGET_RATIO && m.complete,
        ...(failed?.error
          ? { note: failed.error.slice(0, 80) }
          : !m.complete
            ? { note: 'a run did not store every line' }
            : {}),
      };
    });
}
