/**
 * @module The Kubernetes views: namespaces → pods → a pod's containers merged (stern's view), the
 * Events, and the audit trail with filters for user, verb, resource, namespace, name and response
 * code. Namespaces, pods and containers come from Loki's label values (a user limited to some
 * namespaces may not list them all: the page then asks for the namespace); Events and audit events
 * from the `core.kjournal/v1alpha1` lists, with the range as `metadata.creationTimestamp` fields.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  getJson,
  type KubeList,
  type QueryResponse,
  type StreamsResult,
  type ValuesResponse,
} from './api.ts';
import { errorText, type ViewProps } from './explore.tsx';
import { type Entry, entriesOf, LogLines } from './lines.tsx';
import { addFieldFilter, addStreamMatcher, quote } from './logql.ts';
import { nsOf, resolveRange, rfc3339 } from './time.ts';
import { TimePicker } from './time-picker.tsx';

// biome-ignore lint/suspicious/noExplicitAny: objects of several kinds, each read field by field as kube's JSON has it
type Obj = Record<string, any>;

function useValues(label: string, query: string | undefined, state: ViewProps['state'], enabled = true) {
  const [values, setValues] = useState<string[]>([]);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    setValues([]);
    setError(undefined);
    if (!enabled) return;
    const r = resolveRange(state);
    const params: Record<string, string> = r ? { start: nsOf(r.start), end: nsOf(r.end) } : {};
    if (query) params.query = query;
    const abort = new AbortController();
    getJson<ValuesResponse>(`/loki/api/v1/label/${label}/values`, params, abort.signal).then(
      (res) => setValues(res.data ?? []),
      (err) => !abort.signal.aborted && setError(errorText(err)),
    );
    return () => abort.abort();
  }, [label, query, state.from, state.to, enabled]);
  return { values, error };
}

function NamespaceInput({ value, onSet }: { value: string; onSet(ns: string): void }) {
  const [text, setText] = useState(value);
  return (
    <form
      class="ns-input"
      onSubmit={(e) => {
        e.preventDefault();
        onSet(text.trim());
      }}
    >
      <label>
        Namespace <input value={text} onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} />
      </label>
      <button type="submit">Open</button>
    </form>
  );
}

export function Pods({ state, update }: ViewProps) {
  const namespaces = useValues('namespace', undefined, state);
  const pods = useValues(
    'pod',
    state.ns ? `{namespace=${quote(state.ns)}}` : undefined,
    state,
    state.ns !== '',
  );
  const podSelector = state.ns && state.pod ? `{namespace=${quote(state.ns)}, pod=${quote(state.pod)}}` : '';
  const containers = useValues('container', podSelector || undefined, state, podSelector !== '');
  const [entries, setEntries] = useState<Entry[]>([]);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    setEntries([]);
    setError(undefined);
    const r = resolveRange(state);
    if (!podSelector || !r) return;
    const abort = new AbortController();
    getJson<QueryResponse>(
      '/loki/api/v1/query_range',
      {
        query: podSelector,
        start: nsOf(r.start),
        end: nsOf(r.end),
        limit: state.limit,
        direction: 'backward',
      },
      abort.signal,
    ).then(
      (res) => setEntries(entriesOf((res.data as StreamsResult).result)),
      (err) => !abort.signal.aborted && setError(errorText(err)),
    );
    return () => abort.abort();
  }, [podSelector, state.from, state.to, state.limit]);

  return (
    <section class="pods" aria-label="Pods">
      <div class="toolbar">
        <nav class="crumbs" aria-label="Path">
          <button type="button" class="link" onClick={() => update({ ns: '', pod: '' }, true)}>
            Namespaces
          </button>
          {state.ns && (
            <>
              {' / '}
              <button type="button" class="link" onClick={() => update({ pod: '' }, true)}>
                {state.ns}
              </button>
            </>
          )}
          {state.pod && <> / {state.pod}</>}
        </nav>
        <div class="toolbar-side">
          <TimePicker range={state} onChange={(r) => update(r, true)} />
        </div>
      </div>
      {!state.ns && (
        <div class="columns">
          {namespaces.error && (
            <div class="banner" role="alert">
              {namespaces.error}
              <NamespaceInput value="" onSet={(ns) => update({ ns }, true)} />
            </div>
          )}
          <ul class="pick-list" data-testid="namespaces">
            {namespaces.values.map((ns) => (
              <li key={ns}>
                <button type="button" class="link" onClick={() => update({ ns, pod: '' }, true)}>
                  {ns}
                </button>
              </li>
            ))}
          </ul>
          {!namespaces.error && namespaces.values.length === 0 && (
            <p class="muted">No namespaces with logs in this range.</p>
          )}
        </div>
      )}
      {state.ns && !state.pod && (
        <div class="columns">
          {pods.error && (
            <div class="banner" role="alert">
              {pods.error}
            </div>
          )}
          <ul class="pick-list" data-testid="pods">
            {pods.values.map((pod) => (
              <li key={pod}>
                <button type="button" class="link" onClick={() => update({ pod }, true)}>
                  {pod}
                </button>{' '}
                <button
                  type="button"
                  class="small"
                  onClick={() => update({ view: 'timeline', obj: `pod/${pod}` }, true)}
                >
                  timeline
                </button>
              </li>
            ))}
          </ul>
          {!pods.error && pods.values.length === 0 && <p class="muted">No pods with logs in this range.</p>}
        </div>
      )}
      {state.pod && (
        <>
          <div class="pod-head">
            <span>
              Containers:{' '}
              {containers.values.map((c) => (
                <span key={c} class="chip">
                  {c}
                </span>
              ))}
            </span>
            <button type="button" onClick={() => update({ view: 'timeline', obj: `pod/${state.pod}` }, true)}>
              Timeline of pod/{state.pod}
            </button>
            <button type="button" onClick={() => update({ view: 'explore', query: podSelector }, true)}>
              Open in Explore
            </button>
          </div>
          {error && (
            <div class="banner" role="alert">
              {error}
            </div>
          )}
          <LogLines
            entries={entries}
            prefixLabel="container"
            onAddMatcher={(n, v) =>
              update({ view: 'explore', query: addStreamMatcher(podSelector, n, v) }, true)
            }
            onAddField={(p, n, v) =>
              update({ view: 'explore', query: addFieldFilter(podSelector, p, n, v) }, true)
            }
          />
        </>
      )}
    </section>
  );
}

/** A core.kjournal list over the state's range, with more field requirements. */
export async function listKube(
  resource: string,
  namespace: string,
  fields: string[],
  state: ViewProps['state'],
  signal?: AbortSignal,
): Promise<Obj[]> {
  const r = resolveRange(state);
  if (!r) throw new Error('The time range is empty or does not parse.');
  const time = [
    `metadata.creationTimestamp>=${rfc3339(r.start)}`,
    `metadata.creationTimestamp<=${rfc3339(r.end)}`,
  ];
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const list = await getJson<KubeList<Obj>>(
    `/apis/core.kjournal/v1alpha1${ns}/${resource}`,
    { fieldSelector: [...fields, ...time].join(','), limit: '500' },
    signal,
  );
  return list.items;
}

const escField = (v: string) => v.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/=/g, '\\=');

function itemTime(o: Obj): string {
  return o.metadata?.annotations?.['core.kjournal/timestamp'] ?? o.metadata?.creationTimestamp ?? '';
}

function localTime(rfc: string): string {
  const ms = Date.parse(rfc);
  if (Number.isNaN(ms)) return rfc;
  return nsToLocal(ms);
}
function nsToLocal(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export { localTime };

function useList(resource: string, namespace: string, fields: string[], state: ViewProps['state']) {
  const [items, setItems] = useState<Obj[]>([]);
  const [error, setError] = useState<string | undefined>();
  const key = `${resource}|${namespace}|${fields.join(',')}|${state.from}|${state.to}`;
  useEffect(() => {
    setError(undefined);
    const abort = new AbortController();
    listKube(resource, namespace, fields, state, abort.signal).then(
      (list) => setItems([...list].sort((a, b) => (itemTime(a) < itemTime(b) ? 1 : -1))),
      (err) => {
        if (abort.signal.aborted) return;
        setItems([]);
        setError(errorText(err));
      },
    );
    return () => abort.abort();
  }, [key]);
  return { items, error };
}

export function Events({ state, update }: ViewProps) {
  const { items, error } = useList('events', state.ns, [], state);
  return (
    <section class="events" aria-label="Events">
      <div class="toolbar">
        <NamespaceInput value={state.ns} onSet={(ns) => update({ ns })} />
        <div class="toolbar-side">
          <TimePicker range={state} onChange={(r) => update(r, true)} />
        </div>
      </div>
      {error && (
        <div class="banner" role="alert" data-testid="banner">
          {error}
        </div>
      )}
      <table class="table" data-testid="events">
        <thead>
          <tr>
            <th>Time</th>
            <th>Type</th>
            <th>Reason</th>
            <th>Object</th>
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.metadata?.uid ?? e.metadata?.name} class={e.type === 'Warning' ? 'warning' : ''}>
              <td class="ts">{localTime(itemTime(e))}</td>
              <td>{e.type}</td>
              <td>{e.reason}</td>
              <td>
                <button
                  type="button"
                  class="link"
                  onClick={() =>
                    update(
                      {
                        view: 'timeline',
                        obj: `${String(e.regarding?.kind ?? '').toLowerCase()}/${e.regarding?.name}`,
                        ns: e.regarding?.namespace ?? '',
                      },
                      true,
                    )
                  }
                >
                  {String(e.regarding?.kind ?? '').toLowerCase()}/{e.regarding?.name}
                </button>
              </td>
              <td>{e.note}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!error && items.length === 0 && <p class="muted">No events in this range.</p>}
    </section>
  );
}

const AUDIT_FILTERS: [keyof ViewProps['state'], string, string][] = [
  ['user', 'user.username', 'User'],
  ['verb', 'verb', 'Verb'],
  ['resource', 'objectRef.resource', 'Resource'],
  ['ns', 'objectRef.namespace', 'Namespace'],
  ['name', 'objectRef.name', 'Name'],
  ['code', 'responseStatus.code', 'Code'],
];

export function Audit({ state, update }: ViewProps) {
  const fields = AUDIT_FILTERS.filter(([k]) => state[k]).map(([k, f]) => `${f}=${escField(state[k])}`);
  const { items, error } = useList('auditevents', '', fields, state);
  const [draft, setDraft] = useState<Record<string, string>>({});
  useEffect(() => setDraft(Object.fromEntries(AUDIT_FILTERS.map(([k]) => [k, state[k]]))), [state]);
  return (
    <section class="audit" aria-label="Audit">
      <form
        class="toolbar filters"
        onSubmit={(e) => {
          e.preventDefault();
          update(draft);
        }}
      >
        {AUDIT_FILTERS.map(([k, , label]) => (
          <label key={k}>
            {label}{' '}
            <input
              size={10}
              value={draft[k] ?? ''}
              onInput={(e) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value })}
            />
          </label>
        ))}
        <button type="submit" class="primary">
          Filter
        </button>
        <TimePicker range={state} onChange={(r) => update(r, true)} />
      </form>
      {error && (
        <div class="banner" role="alert" data-testid="banner">
          {error}
        </div>
      )}
      <table class="table" data-testid="audit">
        <thead>
          <tr>
            <th>Time</th>
            <th>User</th>
            <th>Verb</th>
            <th>Object</th>
            <th>Code</th>
            <th>URI</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => {
            const ref = a.objectRef ?? {};
            const obj = ref.name ? `${ref.resource}/${ref.name}` : (ref.resource ?? '');
            return (
              <tr
                key={a.metadata?.uid ?? a.auditID}
                class={(a.responseStatus?.code ?? 0) >= 400 ? 'warning' : ''}
              >
                <td class="ts">{localTime(itemTime(a))}</td>
                <td>{a.user?.username}</td>
                <td>{a.verb}</td>
                <td>
                  {ref.name ? (
                    <button
                      type="button"
                      class="link"
                      onClick={() => update({ view: 'timeline', obj, ns: ref.namespace ?? '' }, true)}
                    >
                      {ref.namespace ? `${ref.namespace}/` : ''}
                      {obj}
                    </button>
                  ) : (
                    obj
                  )}
                </td>
                <td>{a.responseStatus?.code}</td>
                <td class="uri">{a.requestURI}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {!error && items.length === 0 && <p class="muted">No audit events match in this range.</p>}
    </section>
  );
}
