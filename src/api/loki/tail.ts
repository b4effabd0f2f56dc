/**
 * @module GET /loki/api/v1/tail over WebSocket, as Loki answers it (pkg/loghttp/tail.go): `query`,
 * `limit` (history, default 100), `start` (default an hour ago), `delay_for` (seconds, at most 5).
 * The history since `start` goes first, then every matching line the store acknowledges, from the
 * one shared tail hub. Frames are `{"streams":[...],"dropped_entries":[...]}`; a client that reads
 * too slowly loses lines, which the next frame reports under `dropped_entries`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { TailEntry, TailHub } from '../../journal/tail-hub.js';
import type { LabelMatcher } from '../../logql/ast.js';
import { isLogExpr, type LogExpr } from '../../logql/ast.js';
import { parseLogql } from '../../logql/parser.js';
import { restrictLogExpr } from '../../logql/restrict.js';
import { entryLabels } from '../../logql/stages/state.js';
import { allLabels } from '../../logql/stages/types.js';
import { labelsKey } from '../../model/labels-key.js';
import type { Labels } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { type QueryAdmission, TooManyOutstandingQueriesError } from '../../query/admission.js';
import type { Queries } from '../../query/queries.js';
import { compileEntryFilter, compileSelectorTest } from '../../query/scan.js';
import {
  ConsumerBuffer,
  DEFAULT_CONSUMER_BUFFER_BYTES,
  entryBytes,
  mapBytes,
} from '../http/consumer-buffer.js';
import { badRequest, HttpError } from '../http/errors.js';
import { tenantOf } from '../http/tenant.js';
import { lokiErrorReply } from './errors.js';
import { parseLimit, parseLokiTimestamp } from './params.js';

export interface TailOptions {
  /** The query operations on the store (src/query/queries.ts). */
  readonly queries: Queries;
  readonly hub: TailHub;
  readonly maxEntriesLimit: number;
  /**
   * Bytes a client may have waiting, in its queue and unsent in its socket together
   * (`--tail-buffer-size`); newer entries beyond it are dropped and reported.
   */
  readonly bufferBytes?: number;
  /** Loki's `max_concurrent_tail_requests`: open tails per tenant (default 10); 0 for no limit. */
  readonly maxTailsPerTenant?: number;
  /** Admission of the history query, as every other query (src/query/admission.ts). */
  readonly admission?: QueryAdmission;
  /** Deadline of the history query, time queued included (default one minute). */
  readonly queryTimeoutMs?: number;
  /** Counts for /metrics: entries dropped for slow clients, clients closed for being too slow. */
  readonly events?: ConsumerEvents;
  readonly now?: () => bigint;
  readonly log?: (line: string) => void;
}

/** What live consumers report, for metrics. */
export interface ConsumerEvents {
  dropped(count: number): void;
  disconnected(): void;
}

const MAX_DELAY_FOR_SECONDS = 5;
/** Loki's default `max_concurrent_tail_requests`. */
export const DEFAULT_MAX_TAILS_PER_TENANT = 10;
/** Share of a client's budget its list of dropped entries may take before the client is closed. */
const DROPPED_SHARE = 8;
/** Per dropped entry: its timestamp and the reference to its labels, as JSON (plus the labels). */
const DROPPED_OVERHEAD = 48;
/** Most bytes of entries in one frame (at least one entry): frames stay small next to the budget. */
const MAX_FRAME_BYTES = 1 << 20;
const RETRY_MS = 50;
/** A client closed for being too slow gets this long to take the close frame before its socket goes. */
const CLOSE_GRACE_MS = 1000;
/** Tail clients send nothing but control frames; ws's default limit for a message is 100 MiB. */
const MAX_CLIENT_MESSAGE_BYTES = 64 << 10;

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
  opts: { maxEntriesLimit: number; now: bigint; restriction?: readonly LabelMatcher[] },
): TailRequest {
  const tenant = tenantOf(req.headers['x-scope-orgid']);
  const q = params.get('query');
  if (q === null || q.trim() === '') throw badRequest('query must not be empty');
  const parsed = parseLogql(q);
  if (!isLogExpr(parsed)) throw badRequest('tail requires a log query, not a metric query');
  const expr = opts.restriction ? restrictLogExpr(parsed, opts.restriction) : parsed;
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

/** Turns a matching entry into what the tail sends, or undefined when the pipeline drops it. */
export type TailFilter = (e: TailEntry) => TailEntry | undefined;

/**
 * The query's pipeline for live entries: every stage through the LogQL evaluator, line filters
 * included, as the query path runs what the store does not (src/query/scan.ts).
 */
export function compileTailFilter(expr: LogExpr): TailFilter {
  return compileEntryFilter(expr);
}

function tailLabels(e: { labels: Labels; attributes: Labels }): Labels {
  // As query_range: structured metadata joins the stream labels (Loki 3), `_extracted` on a clash.
  return entryLabels(e.labels, e.attributes);
}

function entryKey(e: TailEntry): string {
  return `${e.timestamp}\u0000${labelsKey(tailLabels(e))}\u0000${e.body}`;
}

/** What a tail reports of an entry it dropped (Loki's DroppedEntry: its time and labels). */
export interface DroppedEntry {
  readonly timestamp: bigint;
  readonly labels: Labels;
}

/** One Loki tail frame (pkg/loghttp/tail.go). */
export function tailFrame(entries: readonly TailEntry[], dropped: readonly DroppedEntry[]): string {
  const streams = new Map<string, { stream: Labels; values: [string, string][] }>();
  for (const e of entries) {
    const labels = tailLabels(e);
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
    frame.dropped_entries = dropped.map((d) => ({ timestamp: d.timestamp.toString(), labels: d.labels }));
  }
  return JSON.stringify(frame);
}

/** A live entry waiting for its client, and when it may be sent (`delay_for`). */
interface Waiting {
  readonly entry: TailEntry;
  readonly readyAt: number;
}

/**
 * A connected tail: subscribes to the hub, sends history, then live entries. Everything it holds
 * is bounded by its byte budget (api/http/consumer-buffer.ts): the entries waiting (during the
 * history query, during `delay_for`, for a slow socket) and the socket's unsent bytes share it;
 * an entry that does not fit is dropped and reported in the next frame's `dropped_entries`, as
 * Loki's tailer does. The list of dropped entries has a share of the budget too; a client so far
 * behind that it fills that share as well is closed (1008), as kube-apiserver closes a watcher
 * that cannot keep up: it may reconnect and read the gap with a query.
 */
class TailSession {
  private readonly queue: ConsumerBuffer<Waiting>;
  private dropped: DroppedEntry[] = [];
  private droppedBytes = 0;
  private droppedTotal = 0;
  private live = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly filter: TailFilter;
  private readonly maxDroppedBytes: number;
  private readonly frameBytes: number;

  constructor(
    private readonly ws: WebSocket,
    private readonly request: TailRequest,
    private readonly opts: TailOptions,
    private readonly onClose: () => void,
  ) {
    const budget = opts.bufferBytes ?? DEFAULT_CONSUMER_BUFFER_BYTES;
    this.queue = new ConsumerBuffer(budget);
    this.maxDroppedBytes = Math.max(budget / DROPPED_SHARE, 4096);
    this.frameBytes = Math.min(MAX_FRAME_BYTES, budget / 4);
    const matches = compileSelectorTest(request.expr);
    this.filter = compileTailFilter(request.expr);
    this.unsubscribe = opts.hub.subscribe({
      tenant: request.tenant,
      accepts: (e) => matches(e.labels),
      deliver: (entries) => this.deliver(entries),
    });
    ws.on('close', () => this.close());
    ws.on('error', () => this.close());
  }

  async start(signal: AbortSignal): Promise<void> {
    const history: TailEntry[] = [];
    const now = this.opts.now ?? nowNs;
    const limit = this.request.limit;
    const { expr } = this.request;
    try {
      const entries = this.opts.queries.scan(
        {
          tenant: this.request.tenant,
          start: this.request.start,
          end: now() + 1n,
          matchers: expr.matchers,
          stages: expr.pipeline,
          direction: 'backward',
          signal,
          limit,
        },
        (e, out): TailEntry =>
          out === undefined
            ? { labels: e.stream.labels, attributes: e.attributes, timestamp: e.timestamp, body: e.body }
            : { labels: allLabels(out), attributes: {}, timestamp: e.timestamp, body: out.line },
      );
      for await (const batch of entries) {
        if (this.closed) return;
        history.push(...batch);
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.closed) return;
    history.reverse();
    if (history.length > 0) {
      // Live entries that arrived while the history was read may be in it too.
      const seen = new Set(history.map(entryKey));
      this.queue.retain((w) => !seen.has(entryKey(w.entry)));
      this.ws.send(tailFrame(history, []));
    }
    this.live = true;
    this.schedule(0);
  }

  private deliver(accepted: readonly TailEntry[]): void {
    if (this.closed) return;
    const readyAt = performance.now() + this.request.delayForMs;
    for (const a of accepted) {
      const e = this.filter(a);
      if (!e) continue;
      if (
        !this.queue.offer({ entry: e, readyAt }, entryBytes(e), this.ws.bufferedAmount + this.droppedBytes)
      ) {
        this.drop(e);
        if (this.closed) return;
      }
    }
    if (this.live && this.queue.length + this.dropped.length > 0) this.schedule(0);
  }

  private drop(e: TailEntry): void {
    const labels = tailLabels(e);
    const bytes = mapBytes(labels) + DROPPED_OVERHEAD;
    if (this.droppedBytes + bytes > this.maxDroppedBytes) {
      this.tooSlow();
      return;
    }
    this.dropped.push({ timestamp: e.timestamp, labels });
    this.droppedBytes += bytes;
    this.droppedTotal++;
    this.opts.events?.dropped(1);
  }

  private schedule(ms: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, ms);
  }

  private flush(): void {
    if (this.closed) return;
    // The socket still holds a good part of the budget: wait for the client to read it.
    if (this.ws.bufferedAmount > this.queue.maxBytes / 4) {
      this.schedule(RETRY_MS);
      return;
    }
    const now = performance.now();
    const entries = this.queue.take(this.frameBytes, (w) => w.readyAt <= now).map((w) => w.entry);
    const dropped = this.dropped;
    if (entries.length > 0 || dropped.length > 0) {
      this.dropped = [];
      this.droppedBytes = 0;
      this.ws.send(tailFrame(entries, dropped));
    }
    const next = this.queue.peek();
    if (next) this.schedule(Math.max(0, Math.ceil(next.readyAt - performance.now())));
  }

  /** Closes a client that is too far behind to be told what it missed. */
  private tooSlow(): void {
    const total = this.droppedTotal;
    this.opts.log?.(`tail: closing a client that does not keep up (${total} entries dropped)`);
    this.opts.events?.disconnected();
    const ws = this.ws;
    this.close();
    ws.close(1008, `too slow: ${total} entries dropped; query the gap and tail again`);
    // A client that reads nothing never takes the close frame: its socket and buffer go anyway.
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.clear();
    this.dropped = [];
    this.onClose();
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function rejectUpgrade(socket: Duplex, err: unknown): void {
  const reply = lokiErrorReply(err);
  const body = Buffer.from(typeof reply.body === 'string' ? reply.body : (reply.body ?? ''));
  const retryAfter = reply.headers?.['retry-after'];
  socket.end(
    `HTTP/1.1 ${reply.status} ${REASONS[reply.status] ?? 'Error'}\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\n` +
      (retryAfter === undefined ? '' : `Retry-After: ${retryAfter}\r\n`) +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString('utf8')}`,
  );
}

/** The WebSocket side of the server: upgrades tail requests, and closes every tail on shutdown. */
export class TailServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  /** Open (and opening) tails per tenant. */
  private readonly open = new Map<string, number>();

  constructor(private readonly opts: TailOptions) {}

  /** Handles an upgrade for a tail path; `restriction` on restricted paths (lokistack.ts). */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
    restriction?: readonly LabelMatcher[],
  ): void {
    let request: TailRequest;
    try {
      request = parseTailRequest(req, url.searchParams, {
        maxEntriesLimit: this.opts.maxEntriesLimit,
        now: (this.opts.now ?? nowNs)(),
        ...(restriction === undefined ? {} : { restriction }),
      });
      compileTailFilter(request.expr);
    } catch (err) {
      rejectUpgrade(socket, err);
      return;
    }
    const tenant = request.tenant;
    const count = this.open.get(tenant) ?? 0;
    const max = this.opts.maxTailsPerTenant ?? DEFAULT_MAX_TAILS_PER_TENANT;
    if (max > 0 && count >= max) {
      // Loki's text (pkg/querier/querier.go); Loki answers 400 after the upgrade, this is before it.
      const text = `max concurrent tail requests limit exceeded, count > limit (${count + 1} > ${max})`;
      rejectUpgrade(socket, new TooManyOutstandingQueriesError(1, text));
      return;
    }
    this.open.set(tenant, count + 1);
    let counted = true;
    const leave = (): void => {
      if (!counted) return;
      counted = false;
      const n = (this.open.get(tenant) ?? 1) - 1;
      if (n > 0) this.open.set(tenant, n);
      else this.open.delete(tenant);
    };
    const deadline = AbortSignal.timeout(this.opts.queryTimeoutMs ?? 60_000);
    const slot = this.opts.admission
      ? this.opts.admission.acquire(tenant, deadline)
      : Promise.resolve(() => {});
    slot.then(
      (release) => {
        let upgraded = false;
        if (!socket.destroyed) {
          this.wss.handleUpgrade(req, socket, head, (ws) => {
            upgraded = true;
            const session = new TailSession(ws, request, this.opts, leave);
            session
              .start(deadline)
              .catch((err: unknown) => this.opts.log?.(`tail: ${(err as Error).message}`))
              .finally(release);
          });
        }
        // ws answers an invalid handshake itself, without calling back.
        if (!upgraded) {
          release();
          leave();
        }
      },
      (err: unknown) => {
        leave();
        rejectUpgrade(socket, err);
      },
    );
  }

  rejectNotFound(socket: Duplex): void {
    rejectUpgrade(socket, new HttpError(404, '404 page not found'));
  }

  /** Refuses an upgrade with the error's answer (a ForbiddenError is a 403), as Loki's errors. */
  reject(socket: Duplex, err: unknown): void {
    rejectUpgrade(socket, err);
  }

  close(): void {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }
}
