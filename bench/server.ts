/**
 * @module The server under test as a child process: `kjournal serve` on a free loopback port with a
 * fresh data directory, its output kept in a log file, waited for on `GET /ready`, stopped with
 * SIGTERM (SIGKILL after a grace period).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface ServerUnderTest {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly baseUrl: string;
  readonly logPath: string;
  /** Why the process ended, once it has. */
  exited?: string;
  stop(): Promise<void>;
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * The agent's environment as deploy/agent sets it: a fixed malloc mmap threshold and a 4 MB V8
 * semi-space (unless the caller set them, or KJ_BENCH_MALLOC=0).
 */
export function agentEnv(): NodeJS.ProcessEnv {
  if (process.env.KJ_BENCH_MALLOC === '0') return process.env;
  return { MALLOC_MMAP_THRESHOLD_: '131072', NODE_OPTIONS: '--max-semi-space-size=4', ...process.env };
}

/** A positive integer from the environment, else `dflt`; anything else is an error. */
export const envInt = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  return v;
};

/** utime + stime of a process in seconds (/proc/PID/stat fields 14 and 15, clock ticks of 10 ms), or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The sum of a counter over its label sets in a Prometheus text exposition. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/** The words of an environment variable (none when unset). */
export const envWords = (name: string): string[] =>
  (process.env[name] ?? '').split(/\s+/).filter((w) => w !== '');

/** Extra node flags for the server from KJ_BENCH_SERVER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir DIR`). */
const serverNodeArgs = (): string[] => envWords('KJ_BENCH_SERVER_NODE_ARGS');

/** Extra `serve` flags from KJ_BENCH_SERVER_ARGS (e.g. `--decode-workers 0`, to compare). */
const serverArgs = (): string[] => envWords('KJ_BENCH_SERVER_ARGS');

export async function startServer(
  mainJs: string,
  dataDir: string,
  logPath: string,
  /** More `serve` flags (the receivers' listeners). */
  extraArgs: readonly string[] = [],
): Promise<ServerUnderTest> {
  const port = await freePort();
  const out = openSync(logPath, 'w');
  const child = spawn(
    process.execPath,
    [
      ...serverNodeArgs(),
      mainJs,
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--data',
      dataDir,
      ...extraArgs,
      ...serverArgs(),
    ],
    {
      stdio: ['ignore', out, out],
    },
  );
  if (child.pid === undefined) throw new Error('could not start the server');
  const server: ServerUnderTest = {
    child,
    pid: child.pid,
    baseUrl: `http://127.0.0.1:${port}`,
    logPath,
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await done;
      clearTimeout(timer);
    },
  };
  child.on('exit', (code, signal) => {
    server.exited = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  return server;
}

/** Polls `GET /ready` until it answers 200; fails with the server's log tail if it dies or stalls. */
export async function waitReady(server: ServerUnderTest, timeoutMs = 60_000): Promise<number> {
  const t0 = performance.now();
  let last = '';
  while (performance.now() - t0 < timeoutMs) {
    if (server.exited)
      throw new Error(`server ended (${server.exited}) before ready:\n${tail(server.logPath)}`);
    try {
      const res = await fetch(`${server.baseUrl}/ready`);
      await res.text();
      if (res.status === 200) return performance.now() - t0;
      last = `status ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server not ready after ${timeoutMs} ms (last: ${last}):\n${tail(server.logPath)}`);
}

export { tail as logTail };
