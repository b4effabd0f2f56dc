/**
 * @module Shared bits of the end-to-end tests of `kjournal serve --clickhouse-url` (issue 16):
 * a serve child process on a ClickHouse database, a kube watch read line by line, a Loki /tail
 * client, and a direct SQL call to ClickHouse for what the tests check behind the server's back.
 */
import WebSocket from 'ws';
import { type ServerProcess, startServerProcess } from './server-process.js';

/** `kjournal serve --clickhouse-url URL --clickhouse-database DB ...args`. */
export function startClickHouseServe(
  url: string,
  database: string,
  args: readonly string[] = [],
): Promise<ServerProcess> {
  return startServerProcess({
    args: ['--clickhouse-url', url, '--clickhouse-database', database, ...args],
  });
}

/** A statement run on ClickHouse's HTTP interface as `default`; its answer as text. */
export async function chSql(url: string, sql: string): Promise<string> {
  const res = await fetch(`${url}/`, { method: 'POST', body: sql });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse ${res.status}: ${text}`);
  return text;
}

export const nsNow = (): bigint => BigInt(Date.now()) * 1_000_000n;

export interface KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion: string; continue?: string };
  spec?: { line?: string };
  [k: string]: unknown;
}

export interface KubeList {
  kind: string;
  metadata: { resourceVersion: string; continue?: string };
  items: KubeObject[];
}

export interface WatchEvent {
  type: string;
  object: KubeObject;
}

/** What every watch event has. */
export interface KubeWatchEvent {
  type: string;
  object: unknown;
}

/**
 * A kube watch stream read line by line (`E`: the events' shape a test reads; the ClickHouse tests'
 * by default).
 */
export class KubeWatch<E extends KubeWatchEvent = WatchEvent> {
  readonly events: E[] = [];
  private readonly controller = new AbortController();
  status = 0;
  contentType = '';
  /** The stream ended (the server closed it, or close()). */
  ended = false;

  static async open<E extends KubeWatchEvent = WatchEvent>(
    url: string,
    headers: Record<string, string> = {},
  ): Promise<KubeWatch<E>> {
    const w = new KubeWatch<E>();
    const res = await fetch(url, { headers, signal: w.controller.signal });
    w.status = res.status;
    w.contentType = res.headers.get('content-type') ?? '';
    void w.read(res);
    return w;
  }

  private async read(res: Response): Promise<void> {
    let buf = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          this.events.push(JSON.parse(buf.slice(0, nl)) as E);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
      }
    } catch {
      // aborted
    }
    this.ended = true;
  }

  added(): E['object'][] {
    return this.events.filter((e) => e.type === 'ADDED').map((e) => e.object);
  }

  async until(pred: (w: KubeWatch<E>) => boolean, ms: number, what = 'the events'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred(this)) {
      if (Date.now() > deadline)
        throw new Error(`watch: timed out waiting for ${what}; events: ${JSON.stringify(this.events)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.controller.abort();
  }
}

interface TailFrame {
  streams?: { stream: Record<string, string>; values: [string, string][] }[];
}

/** A Loki /tail WebSocket that collects the lines it is sent. */
export class LokiTail {
  readonly frames: TailFrame[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as TailFrame);
    });
  }

  static open(url: string): Promise<LokiTail> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const tail = new LokiTail(ws);
      ws.once('open', () => resolve(tail));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => reject(new Error(`${res.statusCode}: ${body}`)));
      });
    });
  }

  lines(): string[] {
    return this.frames.flatMap((f) => (f.streams ?? []).flatMap((s) => s.values.map((v) => v[1])));
  }

  async until(pred: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline)
        throw new Error(`tail: timed out waiting for ${what}; lines: ${JSON.stringify(this.lines())}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.ws.close();
  }
}
