/**
 * @module Metadata queries over a store, as Loki answers them (pkg/querier, pkg/util/marshal): label
 * names and values, series, index stats, volume and volume over a range. Label names are the stored
 * stream labels; a label's values may be asked for under any spelling of Kubernetes metadata (plain,
 * Viaq, OTEL). Every range here is half-open [start, end): the HTTP side (src/api/loki/metadata.ts)
 * turns Loki's inclusive `end` into it.
 */
import { labelValue } from '../model/kube-meta.js';
import type { Labels } from '../model/record.js';
import type { LabelMatcher, Store, StreamCount, StreamRef } from '../store/store.js';
import { unixSeconds } from './results.js';

/** One tenant's streams under some matchers (restriction already added) in [start, end). */
export interface MetadataRequest {
  readonly tenant: string;
  readonly matchers: readonly LabelMatcher[];
  readonly start: bigint;
  readonly end: bigint;
  readonly signal?: AbortSignal;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function streamsOf(store: Store, req: MetadataRequest): Promise<StreamRef[]> {
  return store.streams(req.tenant, req.matchers, req.start, req.end);
}

/** The label sets of the selected streams, in the store's order. */
export async function streamLabels(store: Store, req: MetadataRequest): Promise<Labels[]> {
  return (await streamsOf(store, req)).map((s) => s.labels);
}

/** The label names of the selected streams, sorted. */
export async function labelNames(store: Store, req: MetadataRequest): Promise<string[]> {
  const names = new Set<string>();
  for (const s of await streamsOf(store, req)) for (const k of Object.keys(s.labels)) names.add(k);
  return [...names].sort(byName);
}

/** The values of a label (under any of its names) in the selected streams, sorted; no empty one. */
export async function labelValues(store: Store, req: MetadataRequest, name: string): Promise<string[]> {
  const values = new Set<string>();
  for (const s of await streamsOf(store, req)) {
    const v = labelValue(s.labels, name);
    if (v !== undefined && v !== '') values.add(v);
  }
  return [...values].sort(byName);
}

/** The label sets of the streams any of the matcher groups selects, sorted by their text. */
export async function series(
  store: Store,
  req: Omit<MetadataRequest, 'matchers'>,
  groups: readonly (readonly LabelMatcher[])[],
): Promise<Labels[]> {
  const seen = new Map<bigint, StreamRef>();
  for (const matchers of groups) {
    for (const s of await streamsOf(store, { ...req, matchers })) seen.set(s.id, s);
  }
  return [...seen.values()].map((s) => s.labels).sort((a, b) => byName(labelsText(a), labelsText(b)));
}

function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort(byName)
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

function countStreams(store: Store, req: MetadataRequest): Promise<StreamCount[]> {
  return store.countByStream({
    tenant: req.tenant,
    start: req.start,
    end: req.end,
    matchers: req.matchers,
    lineFilters: [],
    ...(req.signal ? { signal: req.signal } : {}),
  });
}

/**
 * Loki's index stats: `{streams, chunks, bytes, entries}`. kjournal has no chunks; it counts one
 * per stream with entries in the range, as a Loki head chunk would.
 */
export async function indexStats(
  store: Store,
  req: MetadataRequest,
): Promise<{ streams: number; chunks: number; bytes: number; entries: number }> {
  const counts = await countStreams(store, req);
  let bytes = 0;
  let entries = 0;
  for (const c of counts) {
    bytes += c.bytes;
    entries += c.entries;
  }
  return { streams: counts.length, chunks: counts.length, bytes, entries };
}

export interface VolumeSpec {
  readonly limit: number;
  readonly aggregateBy: 'series' | 'labels';
  /** Given targetLabels, else the selector's label names. */
  readonly targets: readonly string[];
  readonly explicitTargets: boolean;
}

/** The volume groups a stream belongs to. */
function volumeMetrics(labels: Readonly<Record<string, string>>, spec: VolumeSpec): Record<string, string>[] {
  if (spec.aggregateBy === 'labels') {
    const names = spec.explicitTargets ? spec.targets : Object.keys(labels);
    return names.filter((n) => labelValue(labels, n) !== undefined).map((n) => ({ [n]: '' }));
  }
  const metric: Record<string, string> = {};
  for (const n of spec.targets) {
    const v = labelValue(labels, n);
    if (v !== undefined) metric[n] = v;
  }
  return [metric];
}

function groupVolumes(
  counts: readonly StreamCount[],
  spec: VolumeSpec,
): Map<string, { metric: Record<string, string>; bytes: number }> {
  const groups = new Map<string, { metric: Record<string, string>; bytes: number }>();
  for (const c of counts) {
    for (const metric of volumeMetrics(c.stream.labels, spec)) {
      const key = labelsText(metric);
      const g = groups.get(key);
      if (g) g.bytes += c.bytes;
      else groups.set(key, { metric, bytes: c.bytes });
    }
  }
  return groups;
}

const largestFirst = (
  a: { metric: Record<string, string>; bytes: number },
  b: { metric: Record<string, string>; bytes: number },
) => b.bytes - a.bytes || byName(labelsText(a.metric), labelsText(b.metric));

/** Loki's volume: bytes per group, the `limit` largest, as a vector at the range's last nanosecond. */
export async function volume(
  store: Store,
  req: MetadataRequest,
  spec: VolumeSpec,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const counts = await countStreams(store, req);
  const t = unixSeconds(req.end - 1n);
  return [...groupVolumes(counts, spec).values()]
    .sort(largestFirst)
    .slice(0, spec.limit)
    .map((g) => ({ metric: g.metric, value: [t, String(g.bytes)] }));
}

/**
 * Loki's volume_range: the same groups as a matrix, one point per `step` from `start` to `last`
 * (both inclusive), each the bytes in (t - step, t]; the `limit` largest groups over the whole
 * range. Steps without bytes are left out.
 */
export async function volumeRange(
  store: Store,
  req: Omit<MetadataRequest, 'start' | 'end'> & { readonly start: bigint; readonly last: bigint },
  step: bigint,
  spec: VolumeSpec,
): Promise<{ metric: Record<string, string>; values: [number, string][] }[]> {
  const series = new Map<
    string,
    { metric: Record<string, string>; bytes: number; values: [number, string][] }
  >();
  for (let t = req.start; t <= req.last; t += step) {
    const counts = await countStreams(store, { ...req, start: t - step + 1n, end: t + 1n });
    for (const [key, g] of groupVolumes(counts, spec)) {
      if (g.bytes === 0) continue;
      let s = series.get(key);
      if (!s) {
        s = { metric: g.metric, bytes: 0, values: [] };
        series.set(key, s);
      }
      s.bytes += g.bytes;
      s.values.push([unixSeconds(t), String(g.bytes)]);
    }
  }
  return [...series.values()]
    .sort(largestFirst)
    .slice(0, spec.limit)
    .map((s) => ({ metric: s.metric, values: s.values }));
}
