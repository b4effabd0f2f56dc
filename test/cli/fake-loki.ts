/**
 * A throwaway Loki-shaped server for the CLI tests: answers recorded responses by path, records every
 * request, and speaks the tail WebSocket. Also runs the real CLI as a child process (asynchronously:
 * the fake server lives in the test's own event loop).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { CLI } from '../helpers/server-process.js';

export interface Reply {
  status?: number;
  body: unknown;
}

export type Route = (url: URL, req: http.IncomingMessage) => Reply;

export interface FakeLoki {
  readonly url: string;
  /** Every request's path and query, in order. */
  readonly requests: URL[];
  readonly headers: http.IncomingHttpHeaders[];
  routes: Map<string, Route>;
  /** Called with each tail WebSocket once it is open. */
  onTail?: (ws: WebSocket, url: URL) => void;
  close(): Promise<void>;
}

export async function startFakeLoki(routes: Record<string, Route> = {}): Promise<FakeLoki> {
  const requests: URL[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  const fake = {
    url: '',
    requests,
    headers,
    routes: new Map(Object.entries(routes)),
    onTail: undefined as FakeLoki['onTail'],
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push(url);
    headers.push(req.headers);
    const route = fake.routes.get(url.pathname);
    const reply = route ? route(url, req) : { status: 404, body: '404 page not found\n' };
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status ?? 200, {
      'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
    });
    res.end(text);
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push(url);
    headers.push(req.headers);
    if (url.pathname !== '/loki/api/v1/tail' || fake.onTail === undefined) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nno tail here\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => fake.onTail?.(ws, url));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, {
    async close() {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Called with the child once its stdout has printed something, e.g. to interrupt it. */
  onOutput?: (text: string, kill: (signal: NodeJS.Signals) => void) => void;
  timeoutMs?: number;
}

/** Runs `kjournal ...args` with stdout and stderr piped (so not a terminal). */
export function runCli(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const env = { ...process.env, ...opts.env };
  // The tests decide about colour; the environment they run in does not.
  if (opts.env?.NO_COLOR === undefined) delete env.NO_COLOR;
  if (opts.env?.FORCE_COLOR === undefined) delete env.FORCE_COLOR;
  delete env.KUBECONFIG;
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  // The first signal only: a second interrupt while the first is handled ends a CLI at once (as
  // kubectl does), and output can keep arriving after the test has decided to stop it.
  let signalled = false;
  const kill = (s: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    child.kill(s);
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    opts.onOutput?.(stdout, kill);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kjournal ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A Loki success answer. */
export function ok(data: unknown): Reply {
  return { body: { status: 'success', data } };
}
