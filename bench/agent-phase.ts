/**
 * @module The agent phase of `npm run bench`: `kjournal agent` tails a kubelet tree of CRI pod logs
 * (`<dir>/<ns>_<pod>_<uid>/<container>/0.log`, 50 pods × 2 containers by default, lines from the
 * bench's generator with CRI prefixes, some split into `P`/`F` pieces, some on stderr) into a fresh
 * local `kjournal serve`. Measured from the agent's start until the server's
 * `kjournal_ingested_lines_total` holds every record: MiB/s of file bytes, the agent's RSS (VmRSS
 * every 100 ms, and VmHWM), the server's RSS, and both processes' CPU time. Generation is excluded.
 *
 * Environment: KJ_BENCH_AGENT_MB (file bytes to write, MiB; default 1024), KJ_BENCH_AGENT_PODS (50),
 * KJ_BENCH_AGENT_ARGS (extra agent flags, e.g. `--batch-max-bytes 4MiB`), KJ_BENCH_AGENT_NODE_ARGS
 * (extra node flags for the agent, e.g. `--cpu-prof --cpu-prof-dir bench/out/prof`),
 * KJ_BENCH_AGENT_TIMEOUT_S (stall limit: seconds without progress; default 60), KJ_BENCH_AGENT_TREE (a
 * directory to write the tree into and keep, or to reuse it from when it holds one), KJ_BENCH_AGENT_SINK
 * (`1` by default: a second run into an acknowledging sink, the agent's own figure; `0` skips it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSet, DEFAULT_SEED } from './generate.js';
import { fmtInt, fmtMB, median, type Verdict } from './report.js';
import { procStatusKb } from './rss.js';
import {
  agentEnv,
  cpuSeconds,
  envWords,
  freePort,
  logTail,
  metricSum,
  type ServerUnderTest,
  startServer,
  waitReady,
} from './server.js';

const MiB = 1024 * 1024;
const say = (text: string): void => void process.stdout.write(`${text}\n`);

const envNum = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};

export interface KubeletTree {
  readonly dir: string;
  readonly files: number;
  /** Bytes of the .log files. */
  readonly fileBytes: number;
  /** Physical CRI lines written. */
  readonly criLines: number;
  /** Records the agent should ship: CRI lines with `P` pieces joined to their `F`. */
  readonly records: number;
  readonly partialSplits: number;
  readonly seconds: number;
}

/** `2026-03-01T12:00:00.123456789Z` from nanoseconds since the epoch. */
function rfc3339Nano(ts: bigint): string {
  const ms = Number(ts / 1_000_000n);
  const iso = new Date(ms).toISOString(); // ...SS.mmmZ
  const frac = String(ts % 1_000_000_000n).padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** FNV-1a of a string, for spreading streams over files deterministically. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Writes about `targetBytes` of CRI lines under `<root>/pods`, buffered per file (1 MiB writes).
 * Every generator stream goes to one container file; the pod directories take their namespaces and
 * names from the generator's cluster.
 */
export function writeKubeletTree(root: string, targetBytes: number, pods: number, seed: number): KubeletTree {
  const t0 = performance.now();
  const dir = join(root, 'pods');
  const endNs = BigInt(Date.now()) * 1_000_000n;
  // ~250 B per CRI line; ask for plenty and stop at the byte target.
  const data = new DataSet({ lines: Math.ceil((targetBytes / 150) * 1.2), seed, endNs });
  const streams = data.cluster.streams;
  const podNames: { ns: string; pod: string }[] = [];
  const seen = new Set<string>();
  for (const s of streams) {
    const key = `${s.namespace}_${s.pod}`;
    if (seen.has(key)) continue;
    seen.add(key);
    podNames.push({ ns: s.namespace, pod: s.pod });
    if (podNames.length === pods) break;
  }
  for (let i = podNames.length; i < pods; i++) podNames.push({ ns: 'bench', pod: `filler-${i}` });
  const files: { fd: number; buf: string[]; bytes: number }[] = [];
  for (let p = 0; p < pods; p++) {
    const { ns, pod } = podNames[p]!;
    const uid = `${hash(pod).toString(16).padStart(8, '0')}-0000-4000-8000-${String(p).padStart(12, '0')}`;
    for (const c of ['app', 'sidecar']) {
      const cdir = join(dir, `${ns}_${pod}_${uid}`, c);
      mkdirSync(cdir, { recursive: true });
      files.push({ fd: openSync(join(cdir, '0.log'), 'w'), buf: [], bytes: 0 });
    }
  }
  const flush = (f: (typeof files)[number]): void => {
    if (f.bytes === 0) return;
    writeSync(f.fd, f.buf.join(''));
    f.buf = [];
    f.bytes = 0;
  };
  let fileBytes = 0;
  let criLines = 0;
  let records = 0;
  let partialSplits = 0;
  let n = 0;
  outer: for (const batch of data.batches(4000)) {
    for (const r of batch) {
      const f = files[hash(r.stream.key) % files.length]!;
      const prefix = `${rfc3339Nano(r.ts)} ${n % 10 === 7 ? 'stderr' : 'stdout'} `;
      for (const piece of r.line.split('\n')) {
        if (piece === '') continue;
        n++;
        let text: string;
        if (n % 500 === 0 && piece.length > 80) {
          // The runtime split a long line: a P piece, then the F piece that ends it.
          const cut = piece.length >> 1;
          text = `${prefix}P ${piece.slice(0, cut)}\n${prefix}F ${piece.slice(cut)}\n`;
          criLines += 2;
          partialSplits++;
        } else {
          text = `${prefix}F ${piece}\n`;
          criLines++;
        }
        records++;
        const bytes = Buffer.byteLength(text);
        f.buf.push(text);
        f.bytes += bytes;
        fileBytes += bytes;
        if (f.bytes >= MiB) flush(f);
        if (fileBytes >= targetBytes) break outer;
      }
    }
  }
  for (const f of files) {
    flush(f);
    closeSync(f.fd);
  }
  return {
    dir,
    files: files.length,
    fileBytes,
    criLines,
    records,
    partialSplits,
    seconds: (performance.now() - t0) / 1000,
  };
}

async function scrape(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url);
    const text = await res.text();
    return res.ok ? text : undefined;
  } catch {
    return undefined;
  }
}

export interface AgentOutcome {
  /** Shipped to an acknowledging sink instead of a server. */
  readonly sink: boolean;
  readonly tree: KubeletTree;
  readonly agentArgs: string[];
  readonly complete: boolean;
  readonly ingestedRecords: number;
  readonly seconds: number;
  /** File bytes over the whole time, MiB/s. */
  readonly mibPerSecond: number;
  /** Over the middle of the run (10% to 90% of the records), MiB/s. */
  readonly steadyMibPerSecond: number | undefined;
  /** 1 s windows of the run, MiB/s (file bytes in proportion to records acknowledged). */
  readonly windows: { median: number; peak: number } | undefined;
  readonly agentRss: { peakKb: number; hwmKb: number | undefined; samples: number };
  readonly serverRss: { peakKb: number; hwmKb: number | undefined };
  readonly cpu: { agentSeconds: number; serverSeconds: number };
  readonly agentMetrics: Record<string, number>;
  readonly error?: string;
}

let live: { agent?: ChildProcess; server?: ServerUnderTest; dir?: string } = {};

/** Stops what the phase started (for the bench's signal handler). */
export async function abortAgentPhase(): Promise<void> {
  live.agent?.kill('SIGKILL');
  await live.server?.stop().catch(() => {});
  if (live.dir) rmSync(live.dir, { recursive: true, force: true });
  live = {};
  removeAgentTree();
}

/**
 * A stand-in for the server that only acknowledges: `POST /loki/api/v1/push` reads the body and
 * answers 204. What Fluent Bit's and Vector's file-to-TCP figures measure: the agent's own work
 * (read, parse, buffer durably, encode, compress, send), without a server's on the same 2 cores.
 */
async function startSink(): Promise<ServerUnderTest> {
  const port = await freePort();
  const srv = createHttpServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      res.statusCode = req.method === 'POST' ? 204 : 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return {
    child: undefined as unknown as ChildProcess,
    pid: process.pid,
    baseUrl: `http://127.0.0.1:${port}`,
    logPath: '',
    stop: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

/** The kubelet tree of this bench run: written once (not timed), read by both agent runs. */
let shared: { root: string; tree: KubeletTree; kept: boolean } | undefined;

function agentTree(): KubeletTree {
  if (shared) return shared.tree;
  const targetBytes = Math.round(envNum('KJ_BENCH_AGENT_MB', 1024) * MiB);
  const pods = Math.round(envNum('KJ_BENCH_AGENT_PODS', 50));
  const seed = Number(process.env.KJ_BENCH_SEED ?? DEFAULT_SEED);
  const reuse = process.env.KJ_BENCH_AGENT_TREE;
  if (reuse !== undefined && existsSync(join(reuse, 'tree.json'))) {
    // A tree kept from an earlier run with the same knobs (a development shortcut: writing takes ~40 s).
    const tree = JSON.parse(readFileSync(join(reuse, 'tree.json'), 'utf8')) as KubeletTree;
    shared = { root: reuse, tree, kept: true };
    say(`agent: reusing ${fmtMB(tree.fileBytes)} of CRI logs in ${tree.files} files under ${tree.dir}`);
    return tree;
  }
  const root = reuse ?? mkdtempSync(join(tmpdir(), 'kjournal-bench-tree-'));
  if (reuse !== undefined) mkdirSync(root, { recursive: true });
  shared = { root, tree: writeKubeletTree(root, targetBytes, pods, seed), kept: reuse !== undefined };
  const tree = shared.tree;
  if (reuse !== undefined) writeFileSync(join(root, 'tree.json'), JSON.stringify(tree));
  say(
    `agent: wrote ${fmtMB(tree.fileBytes)} (${(tree.fileBytes / MiB).toFixed(0)} MiB) of CRI logs in ${tree.files} files under ${tree.dir}: ` +
      `${fmtInt(tree.criLines)} CRI lines, ${fmtInt(tree.records)} records (${fmtInt(tree.partialSplits)} split P+F), ` +
      `avg ${(tree.fileBytes / tree.criLines).toFixed(0)} B/line; in ${tree.seconds.toFixed(1)} s (not timed)`,
  );
  return tree;
}

/** Deletes the kubelet tree once the agent runs are over (unless KJ_BENCH_KEEP_DATA=1). */
export function removeAgentTree(): void {
  if (!shared) return;
  if (process.env.KJ_BENCH_KEEP_DATA === '1' || shared.kept) say(`kept ${shared.root}`);
  else rmSync(shared.root, { recursive: true, force: true });
  shared = undefined;
}

export async function runAgentPhase(root: string, outDir: string, sink = false): Promise<AgentOutcome> {
  const stallS = envNum('KJ_BENCH_AGENT_TIMEOUT_S', 60);
  const tmp = mkdtempSync(join(tmpdir(), 'kjournal-bench-agent-'));
  live.dir = tmp;
  const mainJs = join(root, 'dist', 'src', 'cli', 'main.js');
  try {
    // 1. The kubelet tree (not timed), shared by the runs.
    const tree = agentTree();

    // 2. A fresh server.
    const dataDir = join(tmp, 'data');
    mkdirSync(dataDir);
    const server = sink
      ? await startSink()
      : await startServer(mainJs, dataDir, join(outDir, 'server-agent.log'));
    live.server = server;
    if (!sink) await waitReady(server);
    const metricsPort = await freePort();
    // Progress: what the server holds, or (into the sink) what the agent saw acknowledged.
    const progressUrl = sink ? `http://127.0.0.1:${metricsPort}/metrics` : `${server.baseUrl}/metrics`;
    const progressMetric = sink ? 'kjournal_agent_shipped_records_total' : 'kjournal_ingested_lines_total';
    const agentArgs = [
      '--server',
      server.baseUrl,
      '--state-dir',
      join(tmp, 'state'),
      '--pods-dir',
      tree.dir,
      '--node',
      'bench',
      '--metrics',
      `127.0.0.1:${metricsPort}`,
      ...envWords('KJ_BENCH_AGENT_ARGS'),
    ];
    const nodeArgs = envWords('KJ_BENCH_AGENT_NODE_ARGS');
    const serverCpu0 = sink ? 0 : (cpuSeconds(server.pid) ?? 0);
    const serverHwm0 = sink ? undefined : procStatusKb(server.pid, 'VmHWM');

    // 3. The agent, timed from its start until the server holds every record.
    const agentLog = join(outDir, 'agent.log');
    const out = openSync(agentLog, 'w');
    const t0 = performance.now();
    const agent = spawn(process.execPath, [...nodeArgs, mainJs, 'agent', ...agentArgs], {
      stdio: ['ignore', out, out],
      env: agentEnv(),
    });
    closeSync(out);
    live.agent = agent;
    let agentExit: string | undefined;
    agent.on('exit', (code, signal) => {
      agentExit = signal ? `signal ${signal}` : `exit code ${code}`;
    });
    const pid = agent.pid!;
    let agentPeakKb = 0;
    let serverPeakKb = 0;
    let samples = 0;
    let agentCpu = 0;
    const sampler = setInterval(() => {
      const a = procStatusKb(pid, 'VmRSS');
      if (a !== undefined) {
        samples++;
        agentPeakKb = Math.max(agentPeakKb, a);
        agentCpu = cpuSeconds(pid) ?? agentCpu;
      }
      if (!sink) serverPeakKb = Math.max(serverPeakKb, procStatusKb(server.pid, 'VmRSS') ?? 0);
    }, 100);

    const progress: { t: number; n: number }[] = [];
    let ingested = 0;
    let lastChange = performance.now();
    let lastPrint = t0;
    let error: string | undefined;
    while (ingested < tree.records) {
      await new Promise((r) => setTimeout(r, 100));
      const text = await scrape(progressUrl);
      const now = performance.now();
      if (text !== undefined) {
        const n = metricSum(text, progressMetric);
        if (n !== ingested) lastChange = now;
        ingested = n;
        progress.push({ t: (now - t0) / 1000, n });
      }
      if (now - lastPrint >= 10_000) {
        lastPrint = now;
        say(
          `  ${((now - t0) / 1000).toFixed(0)} s: ${fmtInt(ingested)} of ${fmtInt(tree.records)} records acknowledged, agent RSS ${(agentPeakKb / 1024).toFixed(0)} MiB peak`,
        );
      }
      if (agentExit !== undefined) {
        error = `agent ended (${agentExit}):\n${logTail(agentLog)}`;
        break;
      }
      if (!sink && server.exited !== undefined) {
        error = `server ended (${server.exited}):\n${logTail(server.logPath)}`;
        break;
      }
      if (now - lastChange > stallS * 1000) {
        error = `no progress for ${stallS} s at ${ingested} of ${tree.records} records`;
        break;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const agentHwm = procStatusKb(pid, 'VmHWM');
    agentCpu = cpuSeconds(pid) ?? agentCpu;
    const serverCpu = sink ? 0 : (cpuSeconds(server.pid) ?? serverCpu0) - serverCpu0;
    const serverHwm = sink ? undefined : procStatusKb(server.pid, 'VmHWM');
    const agentMetrics: Record<string, number> = {};
    const am = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    if (am !== undefined) {
      for (const name of [
        'kjournal_agent_read_records_total',
        'kjournal_agent_read_bytes_total',
        'kjournal_agent_shipped_records_total',
        'kjournal_agent_shipped_bytes_total',
        'kjournal_agent_pushes_total',
        'kjournal_agent_retries_total',
        'kjournal_agent_dropped_records_total',
        'kjournal_agent_problems_total',
        'kjournal_agent_buffer_full_seconds_total',
      ])
        agentMetrics[name] = metricSum(am, name);
    }

    // 4. Stop both.
    const stopped = new Promise<void>((resolve) => {
      if (agentExit !== undefined) resolve();
      else agent.once('exit', () => resolve());
    });
    agent.kill('SIGTERM');
    const kill = setTimeout(() => agent.kill('SIGKILL'), 15_000);
    await stopped;
    clearTimeout(kill);
    await server.stop();

    // 5. Rates.
    const complete = ingested >= tree.records && error === undefined;
    const bytesPerRecord = tree.fileBytes / tree.records;
    const mibPerSecond = (ingested * bytesPerRecord) / MiB / seconds;
    const at = (frac: number) => progress.find((p) => p.n >= frac * tree.records);
    const p10 = at(0.1);
    const p90 = at(0.9);
    const steadyMibPerSecond =
      p10 && p90 && p90.t > p10.t ? ((p90.n - p10.n) * bytesPerRecord) / MiB / (p90.t - p10.t) : undefined;
    const rates: number[] = [];
    let w = 0;
    for (let i = 1; i < progress.length; i++) {
      if (progress[i]!.t - progress[w]!.t >= 1) {
        const p = progress[i]!;
        const q = progress[w]!;
        rates.push(((p.n - q.n) * bytesPerRecord) / MiB / (p.t - q.t));
        w = i;
      }
    }
    const windows = rates.length > 0 ? { median: median(rates), peak: Math.max(...rates) } : undefined;
    const outcome: AgentOutcome = {
      sink,
      tree,
      agentArgs: [...nodeArgs, ...agentArgs.slice(10)],
      complete,
      ingestedRecords: ingested,
      seconds,
      mibPerSecond,
      steadyMibPerSecond,
      windows,
      agentRss: { peakKb: Math.max(agentPeakKb, agentHwm ?? 0), hwmKb: agentHwm, samples },
      serverRss: { peakKb: Math.max(serverPeakKb, serverHwm ?? 0, serverHwm0 ?? 0), hwmKb: serverHwm },
      cpu: { agentSeconds: agentCpu, serverSeconds: serverCpu },
      agentMetrics,
      ...(error !== undefined ? { error } : {}),
    };
    printAgent(outcome);
    return outcome;
  } finally {
    live.agent?.kill('SIGKILL');
    await live.server?.stop().catch(() => {});
    if (process.env.KJ_BENCH_KEEP_DATA === '1') say(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
    live = {};
  }
}

function printAgent(o: AgentOutcome): void {
  const mib = (kb: number): string => `${(kb / 1024).toFixed(1)} MiB`;
  const fileMiB = o.tree.fileBytes / MiB;
  say(
    `agent: ${o.complete ? 'all' : 'ONLY'} ${fmtInt(o.ingestedRecords)} of ${fmtInt(o.tree.records)} records ${o.sink ? 'acknowledged by the sink' : 'on the server'} in ${o.seconds.toFixed(2)} s: ` +
      `${o.mibPerSecond.toFixed(1)} MiB/s of ${fileMiB.toFixed(0)} MiB CRI files (${fmtInt(o.ingestedRecords / o.seconds)} records/s)` +
      (o.steadyMibPerSecond !== undefined ? `; 10%-90% ${o.steadyMibPerSecond.toFixed(1)} MiB/s` : '') +
      (o.windows
        ? `; 1 s windows median ${o.windows.median.toFixed(1)}, peak ${o.windows.peak.toFixed(1)} MiB/s`
        : ''),
  );
  say(
    `  agent RSS peak ${mib(o.agentRss.peakKb)} (VmHWM ${o.agentRss.hwmKb === undefined ? '?' : mib(o.agentRss.hwmKb)}, ${o.agentRss.samples} samples); ` +
      (o.sink
        ? `CPU agent ${o.cpu.agentSeconds.toFixed(1)} s (${((100 * o.cpu.agentSeconds) / o.seconds).toFixed(0)}%) of ${o.seconds.toFixed(1)} s wall`
        : `server RSS peak ${mib(o.serverRss.peakKb)}; CPU agent ${o.cpu.agentSeconds.toFixed(1)} s (${((100 * o.cpu.agentSeconds) / o.seconds).toFixed(0)}%), ` +
          `server ${o.cpu.serverSeconds.toFixed(1)} s (${((100 * o.cpu.serverSeconds) / o.seconds).toFixed(0)}%) of ${o.seconds.toFixed(1)} s wall`),
  );
  const m = o.agentMetrics;
  if (Object.keys(m).length > 0)
    say(
      `  agent metrics: read ${fmtInt(m.kjournal_agent_read_records_total ?? 0)}, shipped ${fmtInt(m.kjournal_agent_shipped_records_total ?? 0)} records in ` +
        `${fmtInt(m.kjournal_agent_pushes_total ?? 0)} push attempts (${fmtMB(m.kjournal_agent_shipped_bytes_total ?? 0)} compressed), ` +
        `${fmtInt(m.kjournal_agent_retries_total ?? 0)} retries, buffer full ${(m.kjournal_agent_buffer_full_seconds_total ?? 0).toFixed(1)} s` +
        (o.agentArgs.length > 0 ? `; extra args: ${o.agentArgs.join(' ')}` : ''),
    );
  if (o.error) say(`  agent phase ERROR: ${o.error}`);
}

/** The sink run has no target of its own: it is the agent's figure beside Fluent Bit's and Vector's. */
export function agentSinkLines(o: AgentOutcome): string[] {
  return [
    `agent alone (into an acknowledging sink, as Fluent Bit's 35 MiB/s and Vector's 76.7 MiB/s file-to-TCP figures): ` +
      `${o.mibPerSecond.toFixed(1)} MiB/s, RSS peak ${fmtMB(o.agentRss.peakKb * 1024)}, CPU ${o.cpu.agentSeconds.toFixed(1)} s` +
      (o.complete ? '' : ' (INCOMPLETE)'),
  ];
}

export function agentVerdicts(o: AgentOutcome): Verdict[] {
  const at1G =
    o.tree.fileBytes >= 1000 * MiB ? undefined : `measured at ${(o.tree.fileBytes / MiB).toFixed(0)} MiB`;
  const note = o.complete ? at1G : 'not all records arrived';
  return [
    {
      target: 'agent tails CRI logs >= 50 MiB/s',
      measured: `${o.mibPerSecond.toFixed(1)} MiB/s`,
      pass: o.complete && o.mibPerSecond >= 50,
      ...(note !== undefined ? { note } : {}),
    },
    {
      target: 'agent RSS < 150 MB',
      measured: `peak ${fmtMB(o.agentRss.peakKb * 1024)}`,
      pass: o.complete && o.agentRss.peakKb * 1024 < 150e6,
      ...(note !== undefined ? { note } : {}),
    },
  ];
}
