/**
 * @module A live fake kube-apiserver for the events source's run of the Source contract suite: it
 * keeps the events produced so far, each with the next resourceVersion, and answers as
 * kube-apiserver does: `GET /api/v1/events` lists them all with the current resourceVersion, and a
 * watch from resourceVersion N first sends every change after N (`ADDED`), then stays open and
 * sends new ones as they are produced. (test/sources/events.test.ts plays recorded exchanges; this
 * one lets the contract produce input at any moment, as for the other sources.)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Stored {
  readonly rv: number;
  readonly object: Record<string, unknown>;
}

export class LiveEventsApi {
  private readonly events: Stored[] = [];
  private readonly watches = new Set<ServerResponse>();
  private server: Server | undefined;
  private rv = 100;
  port = 0;
  /** Send a watch's headers only with its first event: an API server slow to answer a watch. */
  holdWatchHeaders = false;

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stores `make(resourceVersion)` as the next change and sends it to the open watches. */
  add(make: (resourceVersion: string) => Record<string, unknown>): void {
    this.rv += 1;
    const stored = { rv: this.rv, object: make(String(this.rv)) };
    this.events.push(stored);
    for (const w of this.watches) w.write(watchLine(stored));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/v1/events') {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('watch') !== 'true') {
      // A list: items without kind/apiVersion, as kube-apiserver sends them.
      const items = this.events.map(({ object: { kind: _k, apiVersion: _a, ...rest } }) => rest);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'EventList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(this.rv) },
          items,
        }),
      );
      return;
    }
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    // kube-apiserver sends a watch's headers at once, before any event (handlers/watch.go flushes
    // them when the watch starts): the client's watch() resolves on them.
    if (!this.holdWatchHeaders) res.flushHeaders();
    for (const e of this.events) if (e.rv > from) res.write(watchLine(e));
    this.watches.add(res);
    res.on('close', () => this.watches.delete(res));
  }

  async stop(): Promise<void> {
    for (const w of this.watches) w.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}

function watchLine(e: Stored): string {
  return `${JSON.stringify({ type: 'ADDED', object: e.object })}\n`;
}
