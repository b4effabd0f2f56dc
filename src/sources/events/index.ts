/**
 * @module The Kubernetes events source of `kjournal agent`: lists, then watches, core/v1 `events`
 * in all namespaces through `@kubernetes/client-node`, so that every change to an event (a new
 * event, a higher `count`, a new `series`) is kept after the cluster's one-hour TTL removed it.
 * Records are built as `kjournal import --format events` builds them (src/formats/events.ts):
 * body = the Event's JSON (`apiVersion`/`kind` added to list items, as watch objects carry them),
 * `kind=event`, `namespace` of the involved object, attributes `reason`, `type`, `regarding_kind`,
 * `regarding_name`, `event_uid`, `resourceVersion`, `count`.
 *
 * Positions: `resourceVersion` (where the watch resumes after a restart) and `seen` (`{uid:
 * resourceVersion}` of the events stored, bounded to the `maxSeen` most recently changed; a DELETED
 * event, gone from the cluster, leaves it). A change is stored only when its uid's resourceVersion
 * differs from the one seen, so neither a restart nor a relist stores an event twice. A watch that
 * reports `410 Gone` (its resourceVersion compacted away) relists and watches from the list's
 * resourceVersion; bookmarks (`allowWatchBookmarks`) advance the saved resourceVersion with an
 * empty batch. Back-pressure: the watch's events are queued; when more than `maxQueue` wait, the
 * watch is closed (read no further) and reopened from the last resourceVersion handed over once
 * the queue has drained.
 */
import {
  createConfiguration,
  HttpMethod,
  KubeConfig,
  RequestContext,
  type ResponseContext,
  Watch,
} from '@kubernetes/client-node';
import { eventAttributes, eventTimestamp } from '../../formats/events.js';
import { child, isObj, type Obj, scalar } from '../../formats/json-util.js';
import type { Labels, LogRecord } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { raceAbort } from '../../util/abort.js';
import { sleep } from '../../util/sleep.js';
import type { Positions, Source, SourceContext } from '../source.js';

export interface EventsSourceOptions {
  /** A kubeconfig file (default: $KUBECONFIG or ~/.kube/config, unless `inCluster`). */
  readonly kubeconfig?: string;
  /** The kubeconfig context to use (default: its current context). */
  readonly context?: string;
  /** Use the pod's service account (`KUBERNETES_SERVICE_HOST`, the mounted token and CA). */
  readonly inCluster?: boolean;
  /** The source name (default `events`). */
  readonly name?: string;
  /** How many uids `seen` keeps (default 10000). */
  readonly maxSeen?: number;
  /** Events queued before the watch is closed for back-pressure (default 1000). */
  readonly maxQueue?: number;
  /** Delay before reconnecting after an error (default 1000 ms). */
  readonly retryDelayMs?: number;
}

const LIST_PAGE = 500;
const BATCH = 500;

class Gone extends Error {}

interface WatchItem {
  readonly type: string;
  readonly object: unknown;
}

function loadConfig(opts: EventsSourceOptions): KubeConfig {
  const kc = new KubeConfig();
  if (opts.inCluster) kc.loadFromCluster();
  else if (opts.kubeconfig !== undefined) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  if (opts.context !== undefined) kc.setCurrentContext(opts.context);
  if (!kc.getCurrentCluster()) throw new Error('events: the kubeconfig names no current cluster');
  return kc;
}

/** The record of one Event object (raw JSON as the API sends it). */
export function eventRecord(e: Obj, observed: bigint): LogRecord {
  const regarding = child(e, 'involvedObject') ?? child(e, 'regarding');
  const ns = scalar(regarding, 'namespace') ?? scalar(child(e, 'metadata'), 'namespace') ?? '';
  const labels: Labels = ns === '' ? { kind: 'event' } : { kind: 'event', namespace: ns };
  return {
    timestamp: eventTimestamp(e) ?? observed,
    observedTimestamp: observed,
    labels,
    attributes: eventAttributes(e),
    body: JSON.stringify(e),
  };
}

function readSeen(v: unknown): Map<string, string> {
  const m = new Map<string, string>();
  if (isObj(v)) for (const [k, rv] of Object.entries(v)) if (typeof rv === 'string') m.set(k, rv);
  return m;
}

export function createEventsSource(opts: EventsSourceOptions = {}): Source {
  const name = opts.name ?? 'events';
  const maxSeen = opts.maxSeen ?? 10_000;
  const maxQueue = opts.maxQueue ?? 1000;
  const retryDelay = opts.retryDelayMs ?? 1000;

  return {
    name,
    async run(ctx: SourceContext): Promise<void> {
      const kc = loadConfig(opts);
      const server = kc.getCurrentCluster()!.server.replace(/\/+$/, '');
      const http = createConfiguration().httpApi;
      const signal = ctx.signal;

      let rv = typeof ctx.positions.resourceVersion === 'string' ? ctx.positions.resourceVersion : undefined;
      const seen = readSeen(ctx.positions.seen);
      let savedRv = rv;

      const positions = (): Positions => ({
        resourceVersion: rv ?? null,
        seen: Object.fromEntries(seen),
      });
      const remember = (uid: string, v: string) => {
        seen.delete(uid);
        seen.set(uid, v);
        while (seen.size > maxSeen) {
          const oldest = seen.keys().next().value;
          if (oldest === undefined) break;
          seen.delete(oldest);
        }
      };
      /** The record of a change not stored before, or undefined. */
      const change = (e: Obj, observed: bigint): LogRecord | undefined => {
        const meta = child(e, 'metadata');
        const uid = scalar(meta, 'uid');
        const v = scalar(meta, 'resourceVersion');
        if (uid === undefined || v === undefined) {
          ctx.problem({
            reason: 'bad_event',
            message: 'events: an event without metadata.uid or resourceVersion skipped',
          });
          return undefined;
        }
        if (seen.get(uid) === v) return undefined;
        remember(uid, v);
        return eventRecord(e, observed);
      };
      const emit = async (records: LogRecord[]) => {
        await ctx.emit({ records, positions: positions() });
        savedRv = rv;
      };

      const getJson = async (path: string, query: Record<string, string>): Promise<Obj> => {
        const url = new URL(server + path);
        for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
        const req = new RequestContext(url.toString(), HttpMethod.GET);
        req.setHeaderParam('Accept', 'application/json');
        req.setSignal(signal);
        await kc.applySecurityAuthentication(req);
        const res: ResponseContext = await http.send(req).toPromise();
        const text = await res.body.text();
        if (res.httpStatusCode === 410) throw new Gone(`list: 410 Gone`);
        if (res.httpStatusCode !== 200) {
          throw new Error(`GET ${path}: HTTP ${res.httpStatusCode}: ${text.slice(0, 200)}`);
        }
        const o: unknown = JSON.parse(text);
        if (!isObj(o)) throw new Error(`GET ${path}: not a JSON object`);
        return o;
      };

      /** Lists all events, stores the changes not seen, and sets `rv` to the list's. */
      const list = async (): Promise<void> => {
        let cont: string | undefined;
        let listRv: string | undefined;
        let pending: LogRecord[] = [];
        do {
          const q: Record<string, string> = { limit: String(LIST_PAGE) };
          if (cont !== undefined) q.continue = cont;
          const page = await getJson('/api/v1/events', q);
          const meta = child(page, 'metadata');
          listRv ??= scalar(meta, 'resourceVersion');
          cont = scalar(meta, 'continue') || undefined;
          const observed = nowNs();
          for (const item of Array.isArray(page.items) ? page.items : []) {
            if (!isObj(item)) continue;
            const rec = change({ apiVersion: 'v1', kind: 'Event', ...item }, observed);
            if (rec !== undefined) pending.push(rec);
            if (pending.length >= BATCH) {
              await emit(pending);
              pending = [];
            }
          }
        } while (cont !== undefined && !signal.aborted);
        if (signal.aborted) return;
        rv = listRv;
        if (pending.length > 0 || rv !== savedRv) await emit(pending);
      };

      /** Watches from `rv` until the watch ends; throws Gone on 410. */
      const watchOnce = async (): Promise<void> => {
        const queue: WatchItem[] = [];
        let ended = false;
        let endError: unknown;
        let closedForPressure = false;
        let wake: (() => void) | undefined;
        let controllerRef: AbortController | undefined;
        const poke = () => {
          wake?.();
          wake = undefined;
        };
        const opening = new Watch(kc).watch(
          '/api/v1/events',
          { allowWatchBookmarks: true, resourceVersion: rv },
          (type, object) => {
            if (closedForPressure) return;
            queue.push({ type, object });
            if (queue.length >= maxQueue) {
              closedForPressure = true;
              controllerRef?.abort();
            }
            poke();
          },
          (err) => {
            ended = true;
            endError = err;
            poke();
          },
        );
        // watch() resolves only once the API server has sent the response's headers, and takes no
        // signal: an abort meanwhile must not wait for a slow (or stuck) API server.
        const controller = await raceAbort(opening, signal, () => undefined);
        if (controller === undefined) {
          opening.then(
            (c) => c.abort(),
            () => undefined,
          );
          return;
        }
        controllerRef = controller;
        if (closedForPressure) controller.abort();
        const onAbort = () => {
          controller.abort();
          poke();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          while (!signal.aborted) {
            if (queue.length === 0) {
              if (ended || closedForPressure) break;
              await new Promise<void>((r) => {
                wake = r;
              });
              continue;
            }
            const items = queue.splice(0, BATCH);
            const records: LogRecord[] = [];
            const observed = nowNs();
            let gone = false;
            for (const it of items) {
              if (gone) break;
              const o = isObj(it.object) ? it.object : undefined;
              if (o === undefined) continue;
              const v = scalar(child(o, 'metadata'), 'resourceVersion');
              switch (it.type) {
                case 'ADDED':
                case 'MODIFIED': {
                  const rec = change(o, observed);
                  if (rec !== undefined) records.push(rec);
                  if (v !== undefined) rv = v;
                  break;
                }
                case 'DELETED': {
                  const uid = scalar(child(o, 'metadata'), 'uid');
                  if (uid !== undefined) seen.delete(uid);
                  if (v !== undefined) rv = v;
                  break;
                }
                case 'BOOKMARK':
                  if (v !== undefined) rv = v;
                  break;
                case 'ERROR': {
                  const code = o.code;
                  if (code === 410) gone = true;
                  else {
                    ctx.problem({
                      reason: 'watch_error',
                      message: `events: watch error ${String(code)}: ${String(o.message ?? '')}`,
                    });
                  }
                  break;
                }
                default:
                  ctx.problem({
                    reason: 'bad_event',
                    message: `events: unknown watch event type ${it.type}`,
                  });
              }
            }
            if (records.length > 0 || rv !== savedRv) await emit(records);
            if (gone) {
              controller.abort();
              throw new Gone('watch: 410 Gone');
            }
          }
        } finally {
          signal.removeEventListener('abort', onAbort);
          controller.abort();
        }
        if (signal.aborted || closedForPressure) return;
        const code = (endError as { statusCode?: number } | null)?.statusCode;
        if (code === 410) throw new Gone('watch: HTTP 410 Gone');
        if (endError) throw endError;
      };

      while (!signal.aborted) {
        try {
          if (rv === undefined) await list();
          if (signal.aborted) break;
          const started = Date.now();
          const before = rv;
          await watchOnce();
          // A watch the server ended at once without news: do not reconnect in a tight loop.
          if (rv === before && Date.now() - started < 1000) await sleep(retryDelay, signal);
        } catch (err) {
          if (signal.aborted) break;
          if (err instanceof Gone) {
            // The resourceVersion is too old: list again (seen keeps the relist from duplicating).
            rv = undefined;
            continue;
          }
          ctx.problem({ reason: 'api_error', message: `events: ${(err as Error).message}` });
          await sleep(retryDelay, signal);
        }
      }
    },
  };
}
