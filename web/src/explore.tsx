/**
 * @module Explore: the query, the range, the volume histogram and the lines (or, for a metric
 * query, its chart). Reads `/loki/api/v1/query_range` only: the lines backward (newest first) up to
 * the limit, the histogram as `sum by (level) (count_over_time(QUERY [STEP]))` (Loki's Explore
 * draws its volume from such a query too), and completion from `/labels` and `/label/NAME/values`.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import {
  ApiError,
  getJson,
  type MatrixResult,
  type QueryResponse,
  type StreamsResult,
  type ValuesResponse,
} from './api.ts';
import { type LevelSeries, MetricChart, VolumeHistogram } from './charts.tsx';
import { type EditorError, QueryEditor } from './editor.tsx';
import { type Entry, entriesOf, LogLines, normaliseLevel } from './lines.tsx';
import { addFieldFilter, addStreamMatcher, errorOffset, isMetricQuery } from './logql.ts';
import type { UrlState } from './state.ts';
import { nsOf, resolveRange, stepFor } from './time.ts';
import { TimePicker } from './time-picker.tsx';

export interface ViewProps {
  state: UrlState;
  update(patch: Partial<UrlState>, push?: boolean): void;
}

/** Completion's label names and values over the current range. */
export function useLabelSources(state: UrlState) {
  const labelNames = useCallback(async () => {
    const r = resolveRange(state);
    const params: Record<string, string> = r ? { start: nsOf(r.start), end: nsOf(r.end) } : {};
    return (await getJson<ValuesResponse>('/loki/api/v1/labels', params)).data ?? [];
  }, [state.from, state.to]);
  const labelValues = useCallback(
    async (label: string) => {
      const r = resolveRange(state);
      const params: Record<string, string> = r ? { start: nsOf(r.start), end: nsOf(r.end) } : {};
      return (
        (await getJson<ValuesResponse>(`/loki/api/v1/label/${encodeURIComponent(label)}/values`, params))
          .data ?? []
      );
    },
    [state.from, state.to],
  );
  return { labelNames, labelValues };
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const what =
      err.status === 401 ? 'Unauthorized' : err.status === 403 ? 'Forbidden' : `Error ${err.status}`;
    return `${what}: ${err.message}`;
  }
  return (err as Error).message ?? String(err);
}

interface Volume {
  xs: number[];
  series: LevelSeries[];
  step: number;
}

interface Metric {
  xs: number[];
  series: { label: string; values: (number | null)[] }[];
}

function seriesLabel(metric: Record<string, string>): string {
  const keys = Object.keys(metric);
  return keys.length === 0 ? '{}' : `{${keys.map((k) => `${k}="${metric[k]}"`).join(', ')}}`;
}

/** A matrix answer on the grid first + k * step (first and end in ms, step in s), missing points as `fill`. */
function grid(
  result: MatrixResult['result'],
  firstMs: number,
  step: number,
  fill: number | null,
  endMs: number,
) {
  const first = firstMs / 1000;
  const last = endMs / 1000;
  const xs: number[] = [];
  for (let k = 0; first + k * step <= last + 1e-3; k++) xs.push(first + k * step);
  return {
    xs,
    rows: result.map((r) => {
      const vals: (number | null)[] = xs.map(() => fill);
      for (const [t, v] of r.values) {
        const i = Math.round((t - first) / step);
        if (i >= 0 && i < xs.length) vals[i] = Number(v);
      }
      return { metric: r.metric, vals };
    }),
  };
}

/** One series per level, whatever its spelling (`WARNING`, `warn`) or label (`level`, `detected_level`). */
function mergeLevels(rows: { metric: Record<string, string>; vals: (number | null)[] }[]): LevelSeries[] {
  const byLevel = new Map<string, number[]>();
  for (const row of rows) {
    const level = normaliseLevel(row.metric.level || row.metric.detected_level || '');
    const counts = byLevel.get(level) ?? row.vals.map(() => 0);
    row.vals.forEach((v, i) => {
      counts[i] = (counts[i] ?? 0) + (v ?? 0);
    });
    byLevel.set(level, counts);
  }
  return [...byLevel].map(([level, counts]) => ({ level, counts }));
}

export function Explore({ state, update }: ViewProps) {
  const [draft, setDraft] = useState(state.query);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [volume, setVolume] = useState<Volume | undefined>();
  const [metric, setMetric] = useState<Metric | undefined>();
  const [queryError, setQueryError] = useState<EditorError | undefined>();
  const [banner, setBanner] = useState<string | undefined>();
  const [volumeError, setVolumeError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [took, setTook] = useState<number | undefined>();
  const [nonce, setNonce] = useState(0);
  const { labelNames, labelValues } = useLabelSources(state);

  useEffect(() => setDraft(state.query), [state.query]);

  const run = (): void => {
    if (draft !== state.query) update({ query: draft });
    else setNonce((n) => n + 1);
  };

  useEffect(() => {
    const query = state.query.trim();
    setQueryError(undefined);
    setBanner(undefined);
    setVolumeError(undefined);
    if (!query) {
      setEntries([]);
      setVolume(undefined);
      setMetric(undefined);
      return;
    }
    const r = resolveRange(state);
    if (!r) {
      setBanner('The time range is empty or does not parse.');
      return;
    }
    const abort = new AbortController();
    const began = performance.now();
    const step = stepFor(r.start, r.end);
    const base = { start: nsOf(r.start), end: nsOf(r.end) };
    // Charts evaluate at end - k * step: the last bar ends at the range's end, so the newest lines
    // count; the first point's [step] window starts within a step of the range's start, so the
    // request with its window is no longer than the range (Loki's max_query_length counts both).
    const bars = Math.max(1, Math.floor((r.end - r.start) / 1000 / step));
    const first = r.end - (bars - 1) * step * 1000;
    const chartBase = { start: nsOf(first), end: nsOf(r.end) };
    const onError = (err: unknown): void => {
      if (abort.signal.aborted) return;
      if (err instanceof ApiError && err.status === 400) {
        const offset = errorOffset(state.query, err.message);
        setQueryError({ message: err.message, ...(offset !== undefined ? { offset } : {}) });
      } else setBanner(errorText(err));
    };
    setBusy(true);
    if (isMetricQuery(query)) {
      setEntries([]);
      setVolume(undefined);
      getJson<QueryResponse>(
        '/loki/api/v1/query_range',
        { ...chartBase, query, step: String(step) },
        abort.signal,
      )
        .then((res) => {
          if (res.data.resultType !== 'matrix') throw new Error(`unexpected ${res.data.resultType} answer`);
          const g = grid((res.data as MatrixResult).result, first, step, null, r.end);
          setMetric({
            xs: g.xs,
            series: g.rows.map((row) => ({ label: seriesLabel(row.metric), values: row.vals })),
          });
          setTook(performance.now() - began);
        }, onError)
        .finally(() => setBusy(false));
    } else {
      setMetric(undefined);
      getJson<QueryResponse>(
        '/loki/api/v1/query_range',
        { ...base, query, limit: state.limit, direction: 'backward' },
        abort.signal,
      )
        .then((res) => {
          setEntries(entriesOf((res.data as StreamsResult).result ?? []));
          setTook(performance.now() - began);
        }, onError)
        .finally(() => setBusy(false));
      // By `level` (a label, or a field the query parses) or Loki's `detected_level`: each line has
      // at most one in practice; series of the same level (INFO, info) are merged below.
      const volumeQuery = `sum by (level, detected_level) (count_over_time(${query} [${step}s]))`;
      getJson<QueryResponse>(
        '/loki/api/v1/query_range',
        { ...chartBase, query: volumeQuery, step: String(step) },
        abort.signal,
      ).then(
        (res) => {
          const g = grid((res.data as MatrixResult).result ?? [], first, step, 0, r.end);
          setVolume({
            xs: g.xs,
            step,
            series: mergeLevels(g.rows),
          });
        },
        (err) => {
          if (abort.signal.aborted) return;
          setVolume(undefined);
          // The lines' own error (a parse error) says it already.
          if (!(err instanceof ApiError && err.status === 400 && /parse error/.test(err.message)))
            setVolumeError(`No volume histogram: ${errorText(err)}`);
        },
      );
    }
    return () => abort.abort();
  }, [state.query, state.from, state.to, state.limit, nonce]);

  const zoom = (startMs: number, endMs: number): void =>
    update({ from: String(startMs), to: String(endMs) }, true);

  return (
    <section class="explore" aria-label="Explore">
      <div class="toolbar">
        <QueryEditor
          value={draft}
          onChange={setDraft}
          onRun={run}
          error={queryError}
          labelNames={labelNames}
          labelValues={labelValues}
        />
        <div class="toolbar-side">
          <TimePicker range={state} onChange={(r) => update(r, true)} />
          <label class="limit">
            Lines{' '}
            <select
              value={state.limit}
              onChange={(e) => update({ limit: (e.currentTarget as HTMLSelectElement).value })}
            >
              {['100', '1000', '5000'].map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="primary" data-testid="run" onClick={run} title="Run (Ctrl+Enter)">
            {busy ? 'Running…' : 'Run'}
          </button>
          <button
            type="button"
            onClick={() => update({ view: 'tail', query: draft }, true)}
            disabled={!draft.trim() || isMetricQuery(draft)}
            title="Follow this query live"
          >
            Live tail
          </button>
        </div>
      </div>
      {banner && (
        <div class="banner" role="alert" data-testid="banner">
          {banner}
        </div>
      )}
      {!state.query.trim() && <Welcome onPick={(q) => update({ query: q })} />}
      {volumeError && (
        <div class="muted" data-testid="volume-error">
          {volumeError}
        </div>
      )}
      {volume && <VolumeHistogram xs={volume.xs} series={volume.series} step={volume.step} onSelect={zoom} />}
      {metric && <MetricChart xs={metric.xs} series={metric.series} onSelect={zoom} />}
      {state.query.trim() && !isMetricQuery(state.query) && (
        <div class="summary" data-testid="summary">
          {entries.length} lines{entries.length >= Number(state.limit) ? ` (the newest ${state.limit})` : ''}
          {took !== undefined ? `, ${Math.round(took)} ms` : ''}, newest first
        </div>
      )}
      <LogLines
        entries={entries}
        onAddMatcher={(n, v) => update({ query: addStreamMatcher(state.query, n, v) })}
        onAddField={(p, n, v) => update({ query: addFieldFilter(state.query, p, n, v) })}
      />
    </section>
  );
}

function Welcome({ onPick }: { onPick(q: string): void }) {
  const examples = [
    '{kind="containerlog"}',
    '{kind="containerlog"} |= "error"',
    '{kind="event"} | json | type="Warning"',
    'sum by (namespace) (count_over_time({kind="containerlog"} [5m]))',
  ];
  return (
    <div class="welcome">
      <p>Write a LogQL query above and press Ctrl+Enter, or start from one of these:</p>
      <ul>
        {examples.map((q) => (
          <li key={q}>
            <button type="button" class="link" onClick={() => onPick(q)}>
              <code>{q}</code>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
