/**
 * @module The kube API's watch, its domain side: resourceVersions (the store's sequence numbers),
 * the replay of what a resuming watch missed (bounded: a version too far back is Expired, as from
 * kube-apiserver's watch cache), and which entries become which watch events' objects. The HTTP
 * side (src/api/kube/watch.ts) follows the live entries and streams the events.
 */
import type { Labels } from '../model/record.js';
import { scan } from '../query/scan.js';
import type { Store, StoredEntry } from '../store/store.js';

/** An entry a watch considers: read back from the store, or published live (see liveEntry). */
export type WatchedEntry = StoredEntry;

import { type KubeObject, toObject } from './objects.js';
import type { KubeResource } from './resources.js';
import type { CompiledSelection } from './selectors.js';
import { kubeBadRequest } from './status.js';

/** A watch's resourceVersion: undefined for none or `0` (start now), else a sequence number. */
export function parseResourceVersion(rv: string | undefined): bigint | undefined {
  if (rv === undefined || rv === '' || rv === '0') return undefined;
  if (!/^\d{1,20}$/.test(rv))
    throw kubeBadRequest(`invalid resourceVersion "${rv}": not one this server issued`);
  return BigInt(rv);
}

/** The object of a watch event for an entry, or undefined when the watch's selection skips it. */
export function watchedObject(
  resource: KubeResource,
  tenant: string,
  sel: CompiledSelection,
  entry: StoredEntry,
): KubeObject | undefined {
  if (sel.explicitStart && entry.timestamp < sel.start) return undefined;
  if (sel.explicitEnd && entry.timestamp >= sel.end) return undefined;
  const obj = toObject(resource, tenant, entry);
  return sel.matches(obj) ? obj : undefined;
}

/** An entry published live (not read from the store) as the store would return it. */
export function liveEntry(e: {
  readonly labels: Labels;
  readonly attributes: Labels;
  readonly timestamp: bigint;
  readonly body: string;
  readonly seq: bigint;
}): StoredEntry {
  return {
    stream: { id: 0n, labels: e.labels },
    timestamp: e.timestamp,
    observedTimestamp: e.timestamp,
    attributes: e.attributes,
    body: e.body,
    seq: e.seq,
  };
}

export interface ReplayRequest {
  readonly tenant: string;
  readonly selection: CompiledSelection;
  /** Entries appended after this sequence number. */
  readonly afterSeq: bigint;
  /** Most entries replayed; more is Expired. */
  readonly maxEntries: number;
  /** Most bytes replayed, as `bytes` counts them; more is Expired. */
  readonly maxBytes: number;
  readonly bytes: (e: StoredEntry) => number;
  readonly signal: AbortSignal;
  /** True once the watch is gone: the replay stops. */
  readonly closed: () => boolean;
}

/** What a resuming watch missed, in sequence order; `tooOld` when more than it may replay. */
export async function replayAfter(
  store: Store,
  req: ReplayRequest,
): Promise<{ entries: StoredEntry[]; tooOld: boolean }> {
  const sel = req.selection;
  const missed: StoredEntry[] = [];
  let bytes = 0;
  let tooOld = false;
  const entries = scan(
    store,
    {
      tenant: req.tenant,
      start: sel.start,
      end: sel.end,
      matchers: sel.matchers,
      hints: sel.hints,
      ...(sel.streamFilter ? { streamFilter: sel.streamFilter } : {}),
      direction: 'forward',
      afterSeq: req.afterSeq,
      limit: req.maxEntries + 1,
      signal: req.signal,
    },
    (e) => e,
  );
  read: for await (const batch of entries) {
    if (req.closed()) break;
    for (const e of batch) {
      bytes += req.bytes(e);
      if (bytes > req.maxBytes) {
        tooOld = true;
        break read;
      }
      missed.push(e);
    }
  }
  tooOld ||= missed.length > req.maxEntries;
  if (tooOld) return { entries: [], tooOld };
  missed.sort((a, b) => (a.seq < b.seq ? -1 : 1));
  return { entries: missed, tooOld };
}
