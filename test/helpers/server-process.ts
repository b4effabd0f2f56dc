/**
 * @module Starts the real `kjournal serve` as a child process on a free port, for end-to-end tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ServerProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  stderr(): string;
  /** Stops the process (SIGTERM by default) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * `kjournal serve` on a free loopback port and a new data directory, then `args`; with `bare`, only
 * `args` (a test whose configuration file gives the address and the directory: flags would win).
 */
export async function startServerProcess(
  opts: { dataDir?: string; args?: string[]; bare?: boolean } = {},
): Promise<ServerProcess> {
  const dataDir = opts.bare
    ? (opts.dataDir ?? '')
    : (opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'kj-serve-'))));
  const own = opts.bare ? [] : ['--listen', '127.0.0.1:0', '--data', dataDir];
  const child = spawn(process.execPath, [CLI, 'serve', ...own, ...(opts.args ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving on (https?:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    dataDir,
    child,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface HttpReply {
  status: number;
  text: string;
  headers: Headers;
}

/** TLS servers of tests, by origin: the CA to trust and headers (a token) to send. */
const trusted = new Map<string, { ca: string; headers: Record<string, string> }>();

/** Lets `http` (and so `pushJson`) reach a test's HTTPS server: trust `ca`, send `headers`. */
export function trustServer(url: string, ca: string, headers: Record<string, string> = {}): void {
  trusted.set(new URL(url).origin, { ca, headers });
}

function httpsCall(
  url: string,
  init: RequestInit | undefined,
  t: { ca: string; headers: Record<string, string> },
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: init?.method ?? 'GET',
        ca: t.ca,
        headers: { ...t.headers, ...((init?.headers as Record<string, string> | undefined) ?? {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          }
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers });
        });
      },
    );
    req.on('error', reject);
    req.end(typeof init?.body === 'string' ? init.body : undefined);
  });
}

export async function http(url: string, init?: RequestInit): Promise<HttpReply> {
  const t = trusted.get(new URL(url).origin);
  if (t) return httpsCall(url, init, t);
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text(), headers: res.headers };
}

export function pushJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpReply> {
  return http(`${url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export interface StreamsResponse {
  status: string;
  data: { resultType: string; result: { stream: Record<string, string>; values: [string, string][] }[] };
}

export async function queryRange(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<StreamsResponse> {
  const r = await http(`${url}/loki/api/v1/query_range?${new URLSearchParams(params)}`, { headers });
  if (r.status !== 200) throw new Error(`query_range ${r.status}: ${r.text}`);
  return JSON.parse(r.text) as StreamsResponse;
}

/** All [ts, line] values of a streams response, newest last. */
export function allValues(res: StreamsResponse): [string, string][] {
  return res.data.result.flatMap((s) => s.values).sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : 1));
}
