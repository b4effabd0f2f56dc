/**
 * @module The receivers phase of `npm run bench` (issue 17): the same lines sent through the Loki
 * push (the reference figure), the Fluentd forward receiver, the syslog receiver, GELF and Splunk
 * HEC, each by its real client, into one `kjournal serve` child; prints lines/s for each, counted
 * from the first byte sent until the server's `kjournal_receiver_records_total{result="accepted"}`
 * (or, for the push, the last 204) says every line is stored.
 * - forward: fluent-logger (npm), PackedForward with acks required, KJ_BENCH_RECV_CONNECTIONS
 *   connections (default 4) from KJ_BENCH_RECV_THREADS worker threads (default 2; one thread of
 *   fluent-logger, msgpack-lite, encodes about 80,000 events/s: bench/forward-sender.ts), each
 *   connection emitting its events 5,000 at a time, the event loop let run between (as an app logs);
 * - syslog: Debian's rsyslogd reading the lines from a file (imfile) and forwarding them with omfwd
 *   over TCP, octet-counted (skipped, said so, when /usr/sbin/rsyslogd is missing);
 * - gelf: gelf-pro (npm) over UDP (compressed; one datagram per line), 64 sends in flight;
 * - splunk_hec: splunk-logging (npm), 1000 events a request, KJ_BENCH_RECV_CONNECTIONS loggers: for
 *   information (its sending is timed on the bench's CPU); HEC's verdict is the HTTP receivers'
 *   phase's (bench/receivers-http.ts), on the same lines and terms as the other HTTP receivers.
 * Target (issue 17): forward and syslog at least 100,000 lines/s.
 * Each figure also gives the server's CPU time per line (/proc/PID/stat), which a loaded machine
 * (the senders share its cores) changes less than lines/s.
 * KJ_BENCH_RECV_LINES (default 200,000) lines of about 120 bytes, KJ_BENCH_RECV_ROUNDS rounds (default 3,
 * each into a fresh server; the forward and syslog verdicts take the medians; GELF runs once).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { httpRequest } from './push.js';
import { fmtInt, median, type Verdict } from './report.js';
import { cpuSeconds, envInt, freePort, startServer, waitReady } from './server.js';

const require = createRequire(import.meta.url);
const RSYSLOGD = '/usr/sbin/rsyslogd';

export interface ReceiverFigure {
  readonly protocol: string;
  readonly lines: number;
  readonly seconds: number;
  readonly linesPerSecond: number;
  readonly note?: string;
  /** Lines per second of the server's CPU time (user + system) over the run: the load-independent figure. */
  linesPerServerCpuSecond?: number;
}

/** Runs one figure, adding the server's CPU time per line. */
async function measured(
  pid: number,
  run: () => Promise<ReceiverFigure | undefined>,
): Promise<ReceiverFigure | undefined> {
  const before = cpuSeconds(pid);
  const f = await run();
  const after = cpuSeconds(pid);
  if (f && before !== undefined && after !== undefined && after > before) {
    f.linesPerServerCpuSecond = f.lines / (after - before);
    say(
      `  server CPU: ${(after - before).toFixed(2)} s, ${fmtInt(f.linesPerServerCpuSecond)} lines per CPU second`,
    );
  }
  return f;
}

const say = (text: string): void => void process.stdout.write(`${text}\n`);

function makeLines(n: number): string[] {
  const verbs = ['GET', 'POST', 'PUT', 'DELETE'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      `level=info ts=2026-12-07T12:00:00Z msg="request served" method=${verbs[i % 4]} path=/api/v1/items/${i % 997} status=200 duration_ms=${i % 250} seq=${i}`,
    );
  }
  return out;
}

async function accepted(baseUrl: string, protocol: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const m = new RegExp(
    `kjournal_receiver_records_total\\{protocol="${protocol}",result="accepted"\\} (\\d+)`,
  ).exec(text);
  return m ? Number(m[1]) : 0;
}

/** Waits until `protocol` has `want` more accepted records than `base`; the seconds since `t0`. */
async function untilStored(
  baseUrl: string,
  protocol: string,
  base: number,
  want: number,
  t0: number,
): Promise<number> {
  return (await storedBy(baseUrl, protocol, base, want, t0, false)).seconds;
}

/**
 * Polls the accepted count until `want` lines are stored; a lossy sender (UDP) may lose some: it
 * ends 3 s after the count last moved, with the time of that last move.
 */
async function storedBy(
  baseUrl: string,
  protocol: string,
  base: number,
  want: number,
  t0: number,
  lossy: boolean,
): Promise<{ seconds: number; stored: number }> {
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const n = (await accepted(baseUrl, protocol)) - base;
    if (n >= want) return { seconds: (performance.now() - t0) / 1000, stored: n };
    if (n !== last) {
      last = n;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > (lossy ? 3_000 : 30_000)) {
      if (lossy) return { seconds: (lastChange - t0) / 1000, stored: n };
      throw new Error(`${protocol}: stuck at ${n} of ${want} lines stored`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

function figure(protocol: string, lines: number, seconds: number, note?: string): ReceiverFigure {
  const f = { protocol, lines, seconds, linesPerSecond: lines / seconds, ...(note ? { note } : {}) };
  say(
    `${protocol}: ${fmtInt(lines)} lines in ${seconds.toFixed(2)} s: ${fmtInt(f.linesPerSecond)} lines/s${note ? ` (${note})` : ''}`,
  );
  return f;
}

async function benchPush(baseUrl: string, lines: string[], concurrency: number): Promise<ReceiverFigure> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const base = BigInt(Date.now()) * 1_000_000n;
  const bodies: Buffer[] = [];
  for (let i = 0; i < lines.length; i += 2000) {
    const values = lines.slice(i, i + 2000).map((l, j) => [String(base + BigInt(i + j)), l]);
    bodies.push(Buffer.from(JSON.stringify({ streams: [{ stream: { app: 'bench-push' }, values }] })));
  }
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const r = await httpRequest(agent, `${baseUrl}/loki/api/v1/push`, 'POST', bodies[next++]!, {
          'content-type': 'application/json',
        });
        if (r.status !== 204) throw new Error(`push: ${r.status} ${r.body}`);
      }
    }),
  );
  agent.destroy();
  return figure('loki push (JSON)', lines.length, (performance.now() - t0) / 1000);
}

async function benchForward(
  baseUrl: string,
  port: number,
  lines: string[],
  connections: number,
  threads: number,
): Promise<ReceiverFigure> {
  const base = await accepted(baseUrl, 'forward');
  // A time per line (EventTime, nanoseconds) as Fluent Bit sends: lines 1 µs apart.
  const startUs = Date.now() * 1000 - lines.length;
  const share = Math.ceil(lines.length / threads);
  const workers = Array.from(
    { length: threads },
    (_, t) =>
      new Worker(new URL('./forward-sender.js', import.meta.url), {
        workerData: {
          port,
          lines: lines.slice(t * share, (t + 1) * share),
          startUs,
          offset: t * share,
          connections: Math.max(1, Math.round(connections / threads)),
        },
      }),
  );
  const message = (w: Worker) =>
    new Promise<{ ok?: boolean; ready?: boolean; error?: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  let t0 = 0;
  try {
    // The clock starts once every thread has loaded fluent-logger and holds its lines.
    await Promise.all(workers.map(message));
    const done = workers.map(message);
    t0 = performance.now();
    for (const w of workers) w.postMessage('go');
    for (const m of await Promise.all(done)) if (!m.ok) throw new Error(`fluent-logger: ${m.error}`);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const seconds = await untilStored(baseUrl, 'forward', base, lines.length, t0);
  return figure(
    'forward (fluent-logger, PackedForward, acks)',
    lines.length,
    seconds,
    `${connections} connections from ${threads} sender threads`,
  );
}

async function benchSyslog(
  baseUrl: string,
  port: number,
  lines: string[],
): Promise<ReceiverFigure | undefined> {
  if (!existsSync(RSYSLOGD)) {
    say(`syslog: skipped: ${RSYSLOGD} is missing (Debian's rsyslog package)`);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kj-bench-rsyslog-'));
  const input = join(dir, 'in.log');
  // RFC 5424 times with microseconds, as rsyslog's own RFC 5424 templates write them: lines 1 µs apart.
  const startUs = Date.now() * 1000 - lines.length;
  const stamp = (i: number) => {
    const us = startUs + i;
    return `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}Z`;
  };
  const text = `${lines.map((l, i) => `<14>1 ${stamp(i)} bench-host app - - - ${l}`).join('\n')}\n`;
  writeFileSync(input, '');
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${dir}" maxMessageSize="64k")`,
      'module(load="imfile")',
      `input(type="imfile" File="${input}" Tag="bench" ruleset="fwd" readMode="0")`,
      'template(name="raw" type="string" string="%rawmsg%")',
      'ruleset(name="fwd" queue.type="LinkedList" queue.size="500000" queue.dequeueBatchSize="4096") {',
      `  action(type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp" TCP_Framing="octet-counted" template="raw")`,
      '}',
      '',
    ].join('\n'),
  );
  const base = await accepted(baseUrl, 'syslog');
  const pidFile = join(dir, 'rsyslogd.pid');
  const child: ChildProcess = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', pidFile], { stdio: 'ignore' });
  try {
    // rsyslogd up and watching the (empty) file, then the lines appear at once and the clock starts.
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    const t0 = performance.now();
    appendFileSync(input, text);
    const seconds = await untilStored(baseUrl, 'syslog', base, lines.length, t0);
    return figure('syslog (rsyslogd imfile → omfwd TCP, octet-counted)', lines.length, seconds);
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchGelf(baseUrl: string, port: number, lines: string[]): Promise<ReceiverFigure> {
  // biome-ignore lint/suspicious/noExplicitAny: gelf-pro is untyped
  const gelf = Object.create(require('gelf-pro')) as any;
  gelf.adapter = undefined;
  gelf.setConfig({
    adapterName: 'udp',
    adapterOptions: { host: '127.0.0.1', port },
    fields: { host: 'bench-gelf' },
  });
  const base = await accepted(baseUrl, 'gelf');
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < lines.length) {
        const l = lines[next++]!;
        await new Promise<void>((resolve, reject) =>
          gelf.info(l, {}, (err: Error | null) => (err ? reject(err) : resolve())),
        );
      }
    }),
  );
  const { seconds, stored } = await storedBy(baseUrl, 'gelf', base, lines.length, t0, true);
  const lost = lines.length - stored;
  return figure(
    'gelf (gelf-pro, UDP)',
    stored,
    seconds,
    `UDP, 64 in flight${lost > 0 ? `; ${fmtInt(lost)} datagrams lost` : ''}`,
  );
}

async function benchHec(baseUrl: string, lines: string[], connections: number): Promise<ReceiverFigure> {
  // biome-ignore lint/suspicious/noExplicitAny: splunk-logging is untyped
  const Logger = (require('splunk-logging') as any).Logger;
  const base = await accepted(baseUrl, 'splunk_hec');
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      const logger = new Logger({ token: 'bench', url: baseUrl, maxBatchCount: 0, maxRetries: 3 });
      let failed: Error | undefined;
      logger.error = (err: Error) => {
        failed ??= err;
      };
      const mine = lines.filter((_l, i) => i % connections === c);
      for (let i = 0; i < mine.length; i += 1000) {
        for (const l of mine.slice(i, i + 1000))
          logger.send({ message: l, metadata: { sourcetype: 'bench' } });
        await new Promise<void>((resolve, reject) =>
          logger.flush((err: Error | null) => (err || failed ? reject(err ?? failed) : resolve())),
        );
      }
    }),
  );
  const seconds = await untilStored(baseUrl, 'splunk_hec', base, lines.length, t0);
  return figure(
    'splunk_hec (splunk-logging, 1000 events a request)',
    lines.length,
    seconds,
    `${connections} loggers`,
  );
}

/** Runs the phase against a fresh server; returns the figures and the verdicts. */
export async function runReceiversPhase(
  mainJs: string,
  outDir: string,
): Promise<{ figures: ReceiverFigure[]; verdicts: Verdict[]; error?: string }> {
  const n = envInt('KJ_BENCH_RECV_LINES', 200_000);
  const connections = envInt('KJ_BENCH_RECV_CONNECTIONS', 4);
  const threads = envInt('KJ_BENCH_RECV_THREADS', 2);
  const rounds = envInt('KJ_BENCH_RECV_ROUNDS', 3);
  const lines = makeLines(n);
  const figures: ReceiverFigure[] = [];
  let error: string | undefined;
  // Rounds, each into a fresh server (the same lines sent again would be duplicates): the verdicts
  // take the median of each receiver's rounds, as the HTTP half does (receivers-http.ts).
  for (let round = 1; round <= rounds && error === undefined; round++) {
    if (rounds > 1) say(` round ${round} of ${rounds}`);
    const dataDir = mkdtempSync(join(tmpdir(), 'kj-bench-recv-'));
    const [fwd, syslog, gelf] = [await freePort(), await freePort(), await freePort()];
    const server = await startServer(mainJs, dataDir, join(outDir, 'server-receivers.log'), [
      '--forward-listen',
      `127.0.0.1:${fwd}`,
      '--syslog-tcp',
      `127.0.0.1:${syslog}`,
      '--gelf-udp',
      `127.0.0.1:${gelf}`,
    ]);
    try {
      await waitReady(server);
      const runs: (() => Promise<ReceiverFigure | undefined>)[] = [
        () => benchPush(server.baseUrl, lines, connections),
        () => benchForward(server.baseUrl, fwd, lines, connections, threads),
        () => benchSyslog(server.baseUrl, syslog, lines),
        () => benchHec(server.baseUrl, lines, connections),
        // GELF over UDP is slow to send (gelf-pro, a datagram each): once.
        ...(round === 1 ? [() => benchGelf(server.baseUrl, gelf, lines.slice(0, Math.min(n, 50_000)))] : []),
      ];
      for (const run of runs) {
        const f = await measured(server.pid, run);
        if (f) figures.push(f);
      }
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      say(`receivers phase failed: ${error}`);
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const rates = (p: string) => figures.filter((f) => f.protocol.startsWith(p)).map((f) => f.linesPerSecond);
  const verdicts: Verdict[] = [];
  for (const p of ['forward', 'syslog']) {
    const each = rates(p);
    if (each.length === 0) continue;
    const r = median(each);
    if (rounds > 1) say(` ${p}: median ${fmtInt(r)} lines/s of ${each.map((x) => fmtInt(x)).join(', ')}`);
    verdicts.push({
      target: `${p} receiver ≥ 100,000 lines/s${each.length > 1 ? ` (median of ${each.length})` : ''}`,
      measured: `${fmtInt(r)} lines/s`,
      pass: r >= 100_000,
    });
  }
  return { figures, verdicts, ...(error !== undefined ? { error } : {}) };
}
