/**
 * @module GET /loki/api/v1/tail over WebSocket, as Loki answers it (pkg/loghttp/tail.go): `query`,
 * `limit` (history, default 100), `start` (default an hour ago), `delay_for` (seconds, at most 5).
 * The history since `start` goes first, then every matching line the store acknowledges, from the
 * one shared tail hub. Frames are `{"streams":[...],"dropped_entries":[...]}`; a client that reads
 * too slowly loses lines, which the next frame reports under `dropped_entries`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import RE2 from 're2';
import { type WebSocket, WebSocketServer } from 'ws';
import { isLogExpr, type LogExpr } from '../../logql/ast.js';
import { LogqlUnsupportedError } from '../../logql/errors.js';
import { parseLogql } from '../../logql/parser.js';
import { allLabels, type CompilePipeline } from '../../logql/pipeline/types.js';
import { planLog } from '../../logql/plan.js';
import { restrictLogExpr } from '../../logql/restrict.js';
import type { Labels } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import type { TailEntry, TailHub } from '../../server/tail-hub.js';
import { BoundedQueue } from '../../server/tail-hub.js';
import { labelsKey } from '../../store/catalog.js';
import { compileMatchers } from '../../store/matchers.js';
import type { Store } from '../../store/store.js';
import { badRequest, HttpError } from '../http/errors.js';
import { lokiErrorReply } from './errors.js';
import { parseLimit, parseLokiTimestamp } from './params.js';
import { tenantOf } from './tenant.js';

export interface TailOptions {
  readonly store: Store;
  readonly hub: TailHub;
  readonly maxEntriesLimit: number;
  /** Entries a client may have waiting before newer ones are dropped. */
  readonly queueCapacity?: number;
  readonly now?: () => bigint;
  readonly log?: (line: string) => void;
  /**
   * The LogQL pipeline evaluator (src/logql/pipeline). Without it, tails evaluate line filters only
   * and refuse queries with other stages.
   */
  readonly compilePipeline?: CompilePipeline;
}

const MAX_DELAY_FOR_SECONDS = 5;
const DEFAULT_QUEUE_CAPACITY = 10_000;
/** Bytes waiting in a socket's send buffer above which a client counts as slow. */
const HIGH_WATER_BYTES = 1 << 20;
const MAX_ENTRIES_PER_FRAME = 1000;
const RETRY_MS = 50;

export interface TailRequest {
  readonly tenant: string;
  readonly expr: LogExpr;
  readonly limit: number;
  readonly start: bigint;
  readonly delayForMs: number;
}

export function parseTailRequest(
  req: IncomingMessage,
  params: URLSearchParams,
  opts: { maxEntriesLimit: number; now: bigint; classRestriction?: string },
): TailRequest {
  const tenant = tenantOf(req.headers['x-scope-orgid']);
  const q = params.get('query');
  if (q === null || q.trim() === '') throw badRequest('query must not be empty');
  const parsed = parseLogql(q);
  if (!isLogExpr(parsed)) throw badRequest('tail requires a log query, not a metric query');
  const expr = opts.classRestriction ? restrictLogExpr(parsed, opts.classRestriction) : parsed;
  const limit = parseLimit(params.get('limit'), 100, opts.maxEntriesLimit);
  let start: bigint;
  try {
    start = parseLokiTimestamp(params.get('start'), opts.now - 3_600_000_000_000n);
  } catch (err) {
    throw badRequest(`could not parse 'start' parameter: ${(err as Error).message}`);
  }
  const delayText = params.get('delay_for');
  let delay = 0;
  if (delayText !== null && delayText !== '') {
    if (!/^\d+$/.test(delayText)) throw badRequest(`invalid delay_for '${delayText}': must be an integer`);
    delay = Number(delayText);
  }
  if (delay > MAX_DELAY_FOR_SECONDS)
    throw badRequest(`delay_for can't be greater than ${MAX_DELAY_FOR_SECONDS}`);
  return { tenant, expr, limit, start, delayForMs: delay * 1000 };
}

type LineTest = (line: string) => boolean;

/** The query's line filters as one predicate; other stages are not evaluated on tails yet. */
export function compileLineFilters(expr: LogExpr): LineTest {
  const tests: LineTest[] = [];
  for (const stage of expr.pipeline) {
    if (stage.type !== 'lineFilter' || stage.ip || stage.op === '|>' || stage.op === '!>') {
      throw new LogqlUnsupportedError(`pipeline stage ${stage.type} is not supported on tail yet`);
    }
    const values = [stage.value, ...stage.or];
    switch (stage.op) {
      case '|=':
        tests.push((l) => values.some((v) => l.includes(v)));
        break;
      case '!=':
        tests.push((l) => !values.some((v) => l.includes(v)));
        break;
      case '|~': {
        const res = values.map((v) => new RE2(v));
        tests.push((l) => res.some((re) => re.test(l)));
        break;
      }
      case '!~': {
        const res = values.map((v) => new RE2(v));
        tests.push((l) => !res.some((re) => re.test(l)));
        break;
      }
    }
  }
  return (line) => tests.every((t) => t(line));
}

/** Turns a matching entry into what the tail sends, or undefined when the pipeline drops it. */
export type TailFilter = (e: TailEntry) => TailEntry | undefined;

function onlyStoreLineFilters(expr: LogExpr): boolean {
  return expr.pipeline.every((s) => s.type === 'lineFilter' && !s.ip && s.op !== '|>' && s.op !== '!>');
}

/** The query's pipeline for tails: line filters here, any other stage through the evaluator. */
export function compileTailFilter(expr: LogExpr, compilePipeline?: CompilePipeline): TailFilter {
  if (onlyStoreLineFilters(expr) || !compilePipeline) {
    const test = compileLineFilters(expr);
    return (e) => (test(e.body) ? e : undefined);
  }
  const pipeline = compilePipeline(expr.pipeline);
  return (e) => {
    const out = pipeline.process({
      timestamp: e.timestamp,
      line: e.body,
      stream: e.labels,
      metadata: e.attributes,
    });
    if (!out) return undefined;
    return { labels: allLabels(out), attributes: {}, timestamp: e.timestamp, body: out.line };
  };
}

function entryLabels(e: { labels: Labels; attributes: Labels }): Labels {
  // As query_range: structured metadata joins the stream labels (Loki 3).
  return Object.keys(e.attributes).length > 0 ? { ...e.attributes, ...e.labels } : e.labels;
}

function entryKey(e: TailEntry): string {
  return `${e.timestamp}\u0000${labelsKey(entryLabels(e))}\u0000${e.body}`;
}

/** One Loki tail frame (pkg/loghttp/tail.go). */
export function tailFrame(entries: readonly TailEntry[], dropped: readonly TailEntry[]): string {
  const streams = new Map<string, { stream: Labels; values: [string, string][] }>();
  for (const e of entries) {
    const labels = entryLabels(e);
    const key = labelsKey(labels);
    let s = streams.get(key);
    if (!s) {
      s = { stream: labels, values: [] };
      streams.set(key, s);
    }
    s.values.push([e.timestamp.toString(), e.body]);
  }
  // Both fields are `omitempty` in Loki's TailResponse.
  const frame: Record<string, unknown> = {};
  if (streams.size > 0) frame.streams = [...streams.values()];
  if (dropped.length > 0) {
    frame.dropped_entries = dropped.map((d) => ({
      timestamp: d.timestamp.toString(),
      labels: entryLabels(d),
    }));
  }
  return JSON.stringify(frame);
}

/** A connected tail: subscribes to the hub, sends history, then live entries. */
class TailSession {
  private readonly queue: BoundedQueue<TailEntry>;
  private dropped: TailEntry[] = [];
  private pending: TailEntry[] | undefined = [];
  private scheduled = false;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly filter: TailFilter;

  constructor(
    private readonly ws: WebSocket,
    private readonly request: TailRequest,
    private readonly opts: TailOptions,
  ) {
    this.queue = new BoundedQueue(opts.queueCapacity ?? DEFAULT_QUEUE_CAPACITY);
    const matches = compileMatchers(request.expr.matchers);
    this.filter = compileTailFilter(request.expr, opts.compilePipeline);
    this.unsubscribe = opts.hub.subscribe({
      tenant: request.tenant,
      accepts: (e) => matches(e.labels),
      deliver: (entries) => this.deliver(this.apply(entries)),
    });
    ws.on('close', () => this.close());
    ws.on('error', () => this.close());
  }

  private apply(entries: readonly TailEntry[]): TailEntry[] {
    const out: TailEntry[] = [];
    for (const e of entries) {
      const r = this.filter(e);
      if (r) out.push(r);
    }
    return out;
  }

  async start(): Promise<void> {
    const history: TailEntry[] = [];
    const now = this.opts.now ?? nowNs;
    const plan = planLog(this.request.expr);
    const limit = this.request.limit;
    try {
      outer: for await (const batch of this.opts.store.entries({
        tenant: this.request.tenant,
        start: this.request.start,
        end: now() + 1n,
        matchers: plan.matchers,
        lineFilters: plan.lineFilters,
        direction: 'backward',
        // Stages after the store's filters may drop entries: then the limit applies here.
        ...(plan.rest.length === 0 ? { limit } : {}),
      })) {
        for (const e of batch) {
          const r = this.filter({
            labels: e.stream.labels,
            attributes: e.attributes,
            timestamp: e.timestamp,
            body: e.body,
          });
          if (!r) continue;
          history.push(r);
          if (history.length >= limit) break outer;
        }
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.closed) return;
    history.reverse();
    const seen = new Set(history.map(entryKey));
    if (history.length > 0) this.ws.send(tailFrame(history, []));
    const live = (this.pending ?? []).filter((e) => !seen.has(entryKey(e)));
    this.pending = undefined;
    if (live.length > 0) this.enqueue(live);
  }

  private deliver(entries: readonly TailEntry[]): void {
    if (this.closed || entries.length === 0) return;
    if (this.pending) {
      this.pending.push(...entries);
      return;
    }
    if (this.request.delayForMs > 0) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.enqueue(entries);
      }, this.request.delayForMs);
      this.timers.add(t);
    } else this.enqueue(entries);
  }

  private enqueue(entries: readonly TailEntry[]): void {
    if (this.closed) return;
    const overflow = this.queue.push(entries);
    if (overflow.length > 0) this.dropped.push(...overflow.slice(0, MAX_ENTRIES_PER_FRAME));
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.scheduled = false;
      this.flush();
    }, ms);
    this.timers.add(t);
  }

  private flush(): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > HIGH_WATER_BYTES) {
      this.schedule(RETRY_MS);
      return;
    }
    const entries = this.queue.drain(MAX_ENTRIES_PER_FRAME);
    const dropped = this.dropped;
    this.dropped = [];
    if (entries.length === 0 && dropped.length === 0) return;
    this.ws.send(tailFrame(entries, dropped));
    if (this.queue.length > 0) this.schedule(0);
  }

  private fail(err: unknown): void {
    this.opts.log?.(`tail: ${(err as Error).message}`);
    if (!this.closed) this.ws.close(1011, 'internal error');
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

function rejectUpgrade(socket: Duplex, err: unknown): void {
  const reply = lokiErrorReply(err);
  const body = Buffer.from(typeof reply.body === 'string' ? reply.body : (reply.body ?? ''));
  const reason = reply.status === 400 ? 'Bad Request' : reply.status === 404 ? 'Not Found' : 'Error';
  socket.end(
    `HTTP/1.1 ${reply.status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString('utf8')}`,
  );
}

/** The WebSocket side of the server: upgrades tail requests, and closes every tail on shutdown. */
export class TailServer {
  private readonly wss = new WebSocketServer({ noServer: true });

  constructor(private readonly opts: TailOptions) {}

  /** Handles an upgrade for a tail path; `classRestriction` on LokiStack paths. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, classRestriction?: string): void {
    let request: TailRequest;
    try {
      request = parseTailRequest(req, url.searchParams, {
        maxEntriesLimit: this.opts.maxEntriesLimit,
        now: (this.opts.now ?? nowNs)(),
        ...(classRestriction === undefined ? {} : { classRestriction }),
      });
      compileTailFilter(request.expr, this.opts.compilePipeline);
    } catch (err) {
      rejectUpgrade(socket, err);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new TailSession(ws, request, this.opts);
      session.start().catch((err: unknown) => this.opts.log?.(`tail: ${(err as Error).message}`));
    });
  }

  rejectNotFound(socket: Duplex): void {
    rejectUpgrade(socket, new HttpError(404, '404 page not found'));
  }

  close(): void {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }
}
