/**
 * @module Watch (`?watch=true`): newline-delimited JSON watch events over a chunked response, as
 * kube-apiserver streams them. A watch resumes after `resourceVersion` (the store's sequence
 * number) by reading what it missed from the store, then follows the one shared tail
 * (server/tail-hub.ts) that the push path publishes to: no polling. `allowWatchBookmarks` adds
 * periodic BOOKMARK events; a version too old to replay is a 410 ERROR event, as from
 * kube-apiserver's watch cache.
 */
import type { ServerResponse } from 'node:http';
import { type KubeObject, toObject } from '../../kube/objects.js';
import { GROUP_VERSION, type KubeResource } from '../../kube/resources.js';
import type { CompiledSelection } from '../../kube/selectors.js';
import { kubeBadRequest, statusObject } from '../../kube/status.js';
import { type IncludeObject, toTable } from '../../kube/tables.js';
import { labelValue } from '../../model/kube-meta.js';
import type { TailEntry, TailHub } from '../../server/tail-hub.js';
import type { Store, StoredEntry } from '../../store/store.js';
import type { Reply } from '../http/router.js';

export interface WatchOptions {
  readonly store: Store;
  readonly hub: TailHub;
  /** Most entries a resuming watch replays from the store; an older version is 410. */
  readonly replayMax: number;
  readonly bookmarkIntervalMs: number;
  readonly queryTimeoutMs: number;
  /** Open watches; each adds its stop function while it runs (the server ends them on close). */
  readonly active: Set<() => void>;
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

/** A watch stream stops when this much output waits for a slow client; the client resumes. */
const MAX_BUFFERED = 16 << 20;
const DEFAULT_TIMEOUT_S = 1800;

export function parseResourceVersion(rv: string | undefined): bigint | undefined {
  if (rv === undefined || rv === '' || rv === '0') return undefined;
  if (!/^\d{1,20}$/.test(rv))
    throw kubeBadRequest(`invalid resourceVersion "${rv}": not one this server issued`);
  return BigInt(rv);
}

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
  res.flushHeaders();
  let closed = false;
  let first = true;
  let replaying = from !== undefined;
  let pending: TailEntry[] = [];
  const replayed = new Set<bigint>();
  // Without a version, the watch starts now: everything acknowledged so far is "before".
  const floor = from ?? opts.store.lastSeq?.() ?? 0n;

  const write = (event: unknown): void => {
    if (closed) return;
    res.write(`${JSON.stringify(event)}\n`);
    if (res.writableLength > MAX_BUFFERED) finish();
  };
  const emit = (obj: KubeObject): void => {
    const object = req.table
      ? toTable(resource, [obj], { resourceVersion: obj.metadata.resourceVersion }, req.include, first)
      : obj;
    first = false;
    write({ type: 'ADDED', object });
  };
  const consider = (entry: StoredEntry): void => {
    if (!sel.explicitStart || entry.timestamp >= sel.start) {
      if (!sel.explicitEnd || entry.timestamp < sel.end) {
        const obj = toObject(resource, req.tenant, entry);
        if (sel.matches(obj)) emit(obj);
      }
    }
  };
  const flush = (): void => {
    const batch = pending;
    pending = [];
    for (const t of batch) {
      const seq = t.seq;
      if (seq === undefined || seq <= floor || replayed.has(seq)) continue;
      try {
        consider({
          stream: { id: 0n, labels: t.labels },
          timestamp: t.timestamp,
          observedTimestamp: t.timestamp,
          attributes: t.attributes,
          body: t.body,
          seq,
        });
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
      pending.push(...entries);
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
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    if (timeoutTimer) clearTimeout(timeoutTimer);
    if (!res.writableEnded) res.end();
    resolveDone();
  }
  res.on('close', finish);
  opts.active.add(finish);
  // 0 or none: the default; at most a day (setTimeout's range is about 24.8 days).
  timeoutTimer = setTimeout(finish, Math.min(req.timeoutSeconds || DEFAULT_TIMEOUT_S, 86_400) * 1000);
  timeoutTimer.unref();

  if (from !== undefined) {
    // Replay what came after the version: everything the store acknowledged since.
    const missed: StoredEntry[] = [];
    let tooOld = false;
    try {
      for await (const batch of opts.store.entries({
        tenant: req.tenant,
        start: sel.start,
        end: sel.end,
        matchers: sel.matchers,
        lineFilters: [],
        hints: sel.hints,
        direction: 'forward',
        afterSeq: from,
        limit: opts.replayMax + 1,
        signal: AbortSignal.timeout(opts.queryTimeoutMs),
      })) {
        missed.push(...batch);
      }
      tooOld = missed.length > opts.replayMax;
    } catch (err) {
      write({
        type: 'ERROR',
        object: statusObject(500, 'InternalError', `resuming the watch failed: ${(err as Error).message}`),
      });
      finish();
      return done;
    }
    if (tooOld) {
      write({
        type: 'ERROR',
        object: statusObject(
          410,
          'Expired',
          `too old resource version: ${from} (${opts.store.lastSeq?.() ?? 0n}): more than ${opts.replayMax} entries came after it; list again`,
        ),
      });
      finish();
      return done;
    }
    missed.sort((a, b) => ((a.seq ?? 0n) < (b.seq ?? 0n) ? -1 : 1));
    for (const e of missed) {
      replayed.add(e.seq ?? 0n);
      consider(e);
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
          metadata: { resourceVersion: String(opts.store.lastSeq?.() ?? 0n) },
        },
      });
    }, opts.bookmarkIntervalMs);
    bookmarkTimer.unref();
  }
  return done;
}
