/**
 * @module One object's timeline: its container logs (or a Node's node logs), the Events about it
 * and the audit events that named it, merged oldest first, each row marked with its kind. The
 * requests and the merge are src/kube/timeline.ts, shared with `kjournal timeline`; a list the user
 * may not read (403) is shown as such beside what they may.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  mergeTimeline,
  ObjectRefError,
  parseObjectRef,
  sourcePath,
  type TimelineItem,
  type TimelineObject,
  timelineSources,
} from '../../src/kube/timeline.ts';
import { getJson, type KubeList } from './api.ts';
import { errorText, type ViewProps } from './explore.tsx';
import { formatNs, resolveRange, rfc3339 } from './time.ts';
import { TimePicker } from './time-picker.tsx';

const MARKS: Record<TimelineItem['mark'], string> = { log: 'log', event: 'Event', audit: 'audit' };

export function Timeline({ state, update }: ViewProps) {
  const [obj, setObj] = useState(state.obj);
  const [ns, setNs] = useState(state.ns);
  const [rows, setRows] = useState<TimelineItem[]>([]);
  const [errors, setErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState<number | undefined>();
  const [shown, setShown] = useState<Record<TimelineItem['mark'], boolean>>({
    log: true,
    event: true,
    audit: true,
  });
  useEffect(() => {
    setObj(state.obj);
    setNs(state.ns);
  }, [state.obj, state.ns]);
  useEffect(() => {
    setRows([]);
    setErrors([]);
    if (!state.obj) return;
    let ref: ReturnType<typeof parseObjectRef>;
    try {
      ref = parseObjectRef(state.obj, state.ns);
    } catch (err) {
      setErrors([err instanceof ObjectRefError ? err.message : String(err)]);
      return;
    }
    const r = resolveRange(state);
    if (!r) {
      setErrors(['The time range is empty or does not parse.']);
      return;
    }
    const abort = new AbortController();
    setBusy(true);
    const sources = timelineSources(ref, rfc3339(r.start), rfc3339(r.end));
    Promise.all(
      sources.map((s) =>
        getJson<KubeList<TimelineObject>>(
          sourcePath(s),
          { fieldSelector: s.fieldSelector, limit: '2000' },
          abort.signal,
        ).then(
          (list) => ({ mark: s.mark, items: list.items, error: undefined as string | undefined }),
          (err) => ({ mark: s.mark, items: [], error: `${s.resource}: ${errorText(err)}` }),
        ),
      ),
    )
      .then((answers) => {
        if (abort.signal.aborted) return;
        setRows(mergeTimeline(answers));
        setErrors(answers.flatMap((a) => (a.error ? [a.error] : [])));
      })
      .finally(() => setBusy(false));
    return () => abort.abort();
  }, [state.obj, state.ns, state.from, state.to]);

  return (
    <section class="timeline" aria-label="Timeline">
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          update({ obj: obj.trim(), ns: ns.trim() }, true);
        }}
      >
        <label>
          Object{' '}
          <input
            data-testid="timeline-object"
            placeholder="pod/web-1, deploy/api, node/n1"
            value={obj}
            onInput={(e) => setObj((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          Namespace{' '}
          <input value={ns} size={12} onInput={(e) => setNs((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <button type="submit" class="primary">
          Show
        </button>
        <div class="toolbar-side">
          <TimePicker range={state} onChange={(r) => update(r, true)} />
        </div>
      </form>
      {errors.map((e) => (
        <div key={e} class="banner" role="alert" data-testid="banner">
          {e}
        </div>
      ))}
      <fieldset class="marks">
        <legend>Show</legend>
        {(Object.keys(MARKS) as TimelineItem['mark'][]).map((m) => (
          <label key={m}>
            <input
              type="checkbox"
              checked={shown[m]}
              onChange={(e) => setShown({ ...shown, [m]: (e.currentTarget as HTMLInputElement).checked })}
            />{' '}
            <span class={`mark mark-${m}`}>{MARKS[m]}</span> {rows.filter((r) => r.mark === m).length}
          </label>
        ))}
      </fieldset>
      <div class="summary">
        {busy ? 'Loading…' : `${rows.length} entries, oldest first`} · logs, Events and audit events of{' '}
        {state.obj || '…'}
        {state.ns ? ` in ${state.ns}` : ''}
      </div>
      <ol class="timeline-rows" data-testid="timeline">
        {rows.map(
          (row, i) =>
            shown[row.mark] && (
              <li key={`${row.ns}-${i}`} class="trow" data-mark={row.mark} data-testid="timeline-row">
                <button
                  type="button"
                  class="line-head"
                  aria-expanded={open === i}
                  onClick={() => setOpen(open === i ? undefined : i)}
                >
                  <span class="ts">{formatNs(row.ns)}</span>
                  <span class={`mark mark-${row.mark}`}>{MARKS[row.mark]}</span>
                  <span class="msg">{row.summary}</span>
                </button>
                {open === i && <pre class="object">{JSON.stringify(row.object, null, 2)}</pre>}
              </li>
            ),
        )}
      </ol>
    </section>
  );
}
