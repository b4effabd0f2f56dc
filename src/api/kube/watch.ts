/**
 * @module Watch (`?watch=true`): newline-delimited JSON watch events over a chunked response, as
 * kube-apiserver streams them. A watch resumes after `resourceVersion` (the store's sequence
 * number) by reading what it missed from the store (src/kube/watch.ts: the replay and which
 * entries become which objects), then follows the one shared tail
 * (journal/tail-hub.ts) that the push path publishes to: no polling. `allowWatchBookmarks` adds
 * periodic BOOKMARK events; a version too old to replay is a 410 ERROR event, as from
 * kube-apiserver's watch cache.
 *
 * A watch holds at most its byte budget (`--tail-buffer-size`, api/http/consumer-buffer.ts): the
 * events waiting while the replay runs and what waits unsent in the response count. A watcher
 * that falls further behind is ended, as kube-apiserver's cacheWatcher ends one that cannot keep
 * up ("Forcing watcher close due to unresponsiveness"); the client watches again from the last
 * resourceVersion it saw, and the replay gives it what it missed. A client that reads nothing at
 * all has its connection closed shortly after, so the unsent bytes do not stay.
 */
import type { ServerResponse } from 'node:http';
import type { TailEntry, TailHub } from '../../journal/tail-hub.js';
import type { KubeObject } from '../../kube/objects.js';
import type { KubeReads } from '../../kube/reads.js';
import { GROUP_VERSION, type KubeResource } from '../../kube/resources.js';
import type { CompiledSelection } from '../../kube/selectors.js';
import { kubeBadRequest, type StatusObject, statusObject } from '../../kube/status.js';
import { type IncludeObject, toTable } from '../../kube/tables.js';
import { liveEntry, parseResourceVersion, type WatchedEntry, watchedObject } from '../../kube/watch.js';
import { labelValue } from '../../model/kube-meta.js';
import type { QueryAdmission } from '../../query/admission.js';
import { DEFAULT_CONSUMER_BUFFER_BYTES, entryBytes } from '../http/consumer-buffer.js';
import type { Reply } from '../http/router.js';
import { kubeStatusReply } from './errors.js';

export interface WatchOptions {
  readonly reads: KubeReads;
  readonly hub: TailHub;
  /** Most entries a resuming watch replays from the store; an older version is 410. */
  readonly replayMax: number;
  readonly bookmarkIntervalMs: number;
  readonly queryTimeoutMs: number;
  /** Open watches; each adds its stop function while it runs (the server ends them on close). */
  readonly active: Set<() => void>;
  /** Bytes a watch may hold: events waiting and unsent response bytes (default 8 MiB). */
  readonly bufferBytes?: number;
  /** The replay is a store query: it waits for an admission slot as other queries do. */
  readonly admission?: QueryAdmission;
  /** Counts watches ended for not keeping up (for /metrics). */
  readonly onTooSlow?: () => void;
}

export interface WatchRequest {
  readonly tenant: string;
  readonly resource: KubeResource;
  readonly selection: CompiledSelection;
  readonly resourceVersion: string | undefined;
  readonly bookmarks: boolean;
  readonly timeoutSeconds: number | undefined;
  readonly table: boolean;
  readonly include: IncludeObject;
}

const DEFAULT_TIMEOUT_S = 1800;
/**
 * Most bytes of entries a resuming watch reads back from the store (with `replayMax` entries);
 * more is 410 Expired, and the client lists again in pages (kube-apiserver's watch cache holds a
 * bounded window too). Replays wait for admission, so few run at once.
 */
const REPLAY_MAX_BYTES = 32 << 20;
/** A watch ended while its client reads nothing gets this long before its connection goes. */
const END_GRACE_MS = 5000;

export function watchReply(opts: WatchOptions, req: WatchRequest): Reply {
  const from = parseResourceVersion(req.resourceVersion);
  if (req.timeoutSeconds !== undefined && !(req.timeoutSeconds >= 0)) {
    throw kubeBadRequest('invalid timeoutSeconds: want a non-negative number of seconds');
  }
  return {
    status: 200,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-cache, private',
    },
    stream: (res) => runWatch(opts, req, from, res),
  };
}

async function runWatch(
  opts: WatchOptions,
  req: WatchRequest,
  from: bigint | undefined,
  res: ServerResponse,
): Promise<void> {
  const { resource, selection: sel } = req;
  const budget = opts.bufferBytes ?? DEFAULT_CONSUMER_BUFFER_BYTES;
  res.flushHeaders();
  let closed = false;
  let first = true;
  let replaying = from !== undefined;
  let pending: TailEntry[] = [];
  let pendingBytes = 0;
  const replayed = new Set<bigint>();
  // Without a version, the watch starts now: everything acknowledged so far is "before".
  const floor = from ?? opts.reads.version();

  const write = (event: unknown): void => {
    if (closed) return;
    res.write(`${JSON.stringify(event)}\n`);
    if (res.writableLength > budget) tooSlow();
  };
  const emit = (obj: KubeObject): void => {
    const object = req.table
      ? toTable(resource, [obj], { resourceVersion: obj.metadata.resourceVersion }, req.include, first)
      : obj;
    first = false;
    write({ type: 'ADDED', object });
  };
  const consider = (entry: WatchedEntry): void => {
    const obj = watchedObject(resource, req.tenant, sel, entry);
    if (obj) emit(obj);
  };
  const flush = (): void => {
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    for (const t of batch) {
      if (closed) return;
      const seq = t.seq;
      if (seq === undefined || seq <= floor || replayed.has(seq)) continue;
      try {
        consider(liveEntry({ ...t, seq }));
      } catch {
        // one bad entry must not end the watch
      }
    }
  };
  const unsubscribe = opts.hub.subscribe({
    tenant: req.tenant,
    accepts: (e) => labelValue(e.labels, 'kind') === resource.storeKind,
    deliver: (entries) => {
      if (closed) return;
      for (const e of entries) {
        // Held while the replay runs, or while the response is too full to take more.
        pendingBytes += entryBytes(e);
        if (pendingBytes + res.writableLength > budget) {
          tooSlow();
          return;
        }
        pending.push(e);
      }
      if (!replaying) flush();
    },
  });
  let bookmarkTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  function finish(): void {
    if (closed) return;
    closed = true;
    opts.active.delete(finish);
    unsubscribe();
    pending = [];
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    if (timeoutTimer) clearTimeout(timeoutTimer);
    if (!res.writableEnded) res.end();
    if (!res.writableFinished && !res.destroyed) {
      // What is still unsent waits for a client that may never read: not for long.
      const t = setTimeout(() => res.destroy(), END_GRACE_MS);
      t.unref();
      res.once('close', () => clearTimeout(t));
    }
    resolveDone();
  }
  /** kube-apiserver ends a watcher that cannot keep up; the client watches again from its version. */
  function tooSlow(): void {
    if (closed) return;
    opts.onTooSlow?.();
    finish();
  }
  res.on('close', finish);
  opts.active.add(finish);
  // 0 or none: the default; at most a day (setTimeout's range is about 24.8 days).
  timeoutTimer = setTimeout(finish, Math.min(req.timeoutSeconds || DEFAULT_TIMEOUT_S, 86_400) * 1000);
  timeoutTimer.unref();

  if (from !== undefined) {
    // Replay what came after the version: everything the store acknowledged since.
    let missed: WatchedEntry[] = [];
    let tooOld = false;
    const signal = AbortSignal.timeout(opts.queryTimeoutMs);
    let release: (() => void) | undefined;
    try {
      release = await opts.admission?.acquire(req.tenant, signal);
      ({ entries: missed, tooOld } = await opts.reads.replay({
        tenant: req.tenant,
        selection: sel,
        afterSeq: from,
        maxEntries: opts.replayMax,
        maxBytes: REPLAY_MAX_BYTES,
        bytes: (e) => entryBytes({ body: e.body, labels: e.stream.labels, attributes: e.attributes }),
        signal,
        closed: () => closed,
      }));
    } catch (err) {
      write({ type: 'ERROR', object: replayError(err) });
      finish();
      return done;
    } finally {
      release?.();
    }
    if (closed) return done;
    if (tooOld) {
      write({
        type: 'ERROR',
        object: statusObject(
          410,
          'Expired',
          `too old resource version: ${from} (${opts.reads.version()}): more than ${opts.replayMax} entries or ${REPLAY_MAX_BYTES >> 20} MiB came after it; list again`,
        ),
      });
      finish();
      return done;
    }
    for (const e of missed) replayed.add(e.seq);
    // Written as the client takes it: the replay may be larger than the budget.
    for (const e of missed) {
      if (closed) break;
      consider(e);
      if (res.writableLength > budget / 2) await drained(res);
    }
    replaying = false;
    flush();
  }
  if (req.bookmarks) {
    bookmarkTimer = setInterval(() => {
      flush();
      write({
        type: 'BOOKMARK',
        object: {
          kind: resource.kind,
          apiVersion: GROUP_VERSION,
          metadata: { resourceVersion: String(opts.reads.version()) },
        },
      });
    }, opts.bookmarkIntervalMs);
    bookmarkTimer.unref();
  }
  return done;
}

/** Resolves once the response has room again, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** The ERROR event of a replay that could not run: the Status its error is on this API. */
function replayError(err: unknown): StatusObject {
  return JSON.parse(String(kubeStatusReply(err).body)) as StatusObject;
}
