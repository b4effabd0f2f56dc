/**
 * @module The agent's metrics (prom-client, one registry per agent) and the tiny HTTP server of
 * `--metrics ADDR`: `GET /metrics` (Prometheus text) and `GET /ready` (200 once the agent runs, 503
 * while it stops or is paused for disk space).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { registerBuildInfo } from '../util/version.js';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly readRecords: Counter<'source'>;
  readonly readBytes: Counter<'source'>;
  readonly shippedRecords: Counter;
  readonly shippedBytes: Counter;
  readonly pushes: Counter<'result'>;
  readonly dropped: Counter<'reason'>;
  readonly problems: Counter<'source' | 'reason'>;
  readonly retries: Counter;
  readonly positionsSaved: Counter;
  readonly recovered: Counter;
  readonly bufferBytes: Gauge;
  readonly bufferBatches: Gauge;
  readonly bufferMaxBytes: Gauge;
  readonly bufferFull: Gauge;
  readonly bufferFullSeconds: Counter;
  /** 1 while sources are paused for lack of disk space on the state volume. */
  readonly diskPaused: Gauge;
  private disk: { readonly free: number; readonly threshold: number } | undefined;
  private fullSince: number | undefined;
  private fullReported = 0;

  constructor() {
    const registers = [this.registry];
    const p = 'kjournal_agent_';
    this.readRecords = new Counter({
      name: `${p}read_records_total`,
      help: 'Records read, by source',
      labelNames: ['source'],
      registers,
    });
    this.readBytes = new Counter({
      name: `${p}read_bytes_total`,
      help: 'Bytes of record bodies read, by source',
      labelNames: ['source'],
      registers,
    });
    this.shippedRecords = new Counter({
      name: `${p}shipped_records_total`,
      help: 'Records the server acknowledged',
      registers,
    });
    this.shippedBytes = new Counter({
      name: `${p}shipped_bytes_total`,
      help: 'Compressed push bytes the server acknowledged',
      registers,
    });
    this.pushes = new Counter({
      name: `${p}pushes_total`,
      help: 'Push attempts, by result (ok, rejected, retry)',
      labelNames: ['result'],
      registers,
    });
    this.dropped = new Counter({
      name: `${p}dropped_records_total`,
      help: "Records given up, by reason (rejected: the server refused the push with a 4xx; too_old, too_new: the record's time, before buffering)",
      labelNames: ['reason'],
      registers,
    });
    this.problems = new Counter({
      name: `${p}problems_total`,
      help: 'Problems sources met and skipped, by source and reason',
      labelNames: ['source', 'reason'],
      registers,
    });
    this.retries = new Counter({ name: `${p}retries_total`, help: 'Pushes retried', registers });
    registerBuildInfo(this.registry);
    this.positionsSaved = new Counter({
      name: `${p}positions_saved_total`,
      help: 'Durable writes of the positions file',
      registers,
    });
    this.recovered = new Counter({
      name: `${p}recovered_batches_total`,
      help: 'Buffered batches found already stored by the server at start, so not sent again',
      registers,
    });
    this.bufferBytes = new Gauge({
      name: `${p}buffer_bytes`,
      help: 'Bytes of unacknowledged batches in the on-disk buffer',
      registers,
    });
    this.bufferBatches = new Gauge({
      name: `${p}buffer_batches`,
      help: 'Unacknowledged batches in the on-disk buffer',
      registers,
    });
    this.bufferMaxBytes = new Gauge({
      name: `${p}buffer_max_bytes`,
      help: 'The buffer limit (--buffer-max-bytes)',
      registers,
    });
    this.bufferFull = new Gauge({
      name: `${p}buffer_full`,
      help: '1 while the buffer is full and sources are held back',
      registers,
    });
    const self = this;
    this.diskPaused = new Gauge({
      name: `${p}disk_paused`,
      help: '1 while the state directory’s volume is under --min-free-disk (or a write met ENOSPC): sources are paused and /ready says not ready',
      registers,
    });
    new Gauge({
      name: `${p}disk_free_bytes`,
      help: 'Free bytes on the state directory’s volume (sampled every second)',
      registers,
      collect() {
        if (self.disk) this.set(self.disk.free);
      },
    });
    new Gauge({
      name: `${p}disk_min_free_bytes`,
      help: 'The --min-free-disk watermark in bytes: under it, sources pause',
      registers,
      collect() {
        if (self.disk) this.set(self.disk.threshold);
      },
    });
    this.bufferFullSeconds = new Counter({
      name: `${p}buffer_full_seconds_total`,
      help: 'Time the buffer spent full, sources held back',
      registers,
      collect() {
        self.accrueFull();
      },
    });
  }

  /** Free space and watermark of the state volume, for the disk gauges. */
  watchDisk(disk: { readonly free: number; readonly threshold: number }): void {
    this.disk = disk;
  }

  /** Records a change of the buffer's fullness. */
  setFull(full: boolean): void {
    this.accrueFull();
    this.bufferFull.set(full ? 1 : 0);
    this.fullSince = full ? Date.now() : undefined;
    this.fullReported = 0;
  }

  private accrueFull(): void {
    if (this.fullSince === undefined) return;
    const total = (Date.now() - this.fullSince) / 1000;
    this.bufferFullSeconds.inc(Math.max(0, total - this.fullReported));
    this.fullReported = total;
  }
}

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Parses `HOST:PORT` or `:PORT` (all interfaces). */
export function parseAddr(value: string, flag = '--metrics'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new Error(`${flag} must be HOST:PORT or :PORT, got ${JSON.stringify(value)}`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export async function serveMetrics(
  addr: string,
  registry: Registry,
  ready: () => boolean,
): Promise<MetricsServer> {
  const { host, port } = parseAddr(addr);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${err.message}\n`);
        },
      );
    } else if (req.method === 'GET' && path === '/ready') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ready\n' : 'not ready\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${shown}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
