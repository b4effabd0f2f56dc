/**
 * @module The log lines: newest first, a colour per stream (a bar) and per level (a badge), times
 * in the viewer's zone. A click expands an entry to its stream labels, structured metadata and the
 * fields `| json` or `| logfmt` would parse; each is a button that adds itself to the query (a
 * stream matcher, or a `| field="value"` filter). Rows are plain and `content-visibility: auto`
 * (style.css), so 5,000 of them stay cheap to lay out; details render only for the open row.
 */
import { Component } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { hashColour } from './charts.tsx';
import { jsonFields, logfmtFields } from './logql.ts';
import { formatNs } from './time.ts';

export interface Entry {
  key: string;
  ts: string;
  line: string;
  stream: Record<string, string>;
  meta?: Record<string, string> | undefined;
}

const LEVEL_FIELDS = ['level', 'detected_level', 'severity', 'lvl'];
/** Levels with a colour of their own (style.css `.lvl-*`, contrast checked in both themes). */
const LEVEL_CLASSES = new Set(['critical', 'error', 'warn', 'info', 'debug', 'trace']);

/** A level as the page colours it: `WARNING` → `warn`, `ERR` → `error`; empty → `unknown`. */
export function normaliseLevel(v: string): string {
  const l = v.toLowerCase();
  if (l.startsWith('err')) return 'error';
  if (l.startsWith('warn')) return 'warn';
  if (l.startsWith('inf')) return 'info';
  if (l.startsWith('deb') || l === 'dbg') return 'debug';
  if (l.startsWith('crit') || l === 'fatal' || l === 'panic') return 'critical';
  if (l.startsWith('trace')) return 'trace';
  return l || 'unknown';
}

/** The entry's level: a label, structured metadata, or a parsed field; `unknown` without one. */
export function entryLevel(e: Entry): string {
  for (const f of LEVEL_FIELDS) {
    const v = e.stream[f] ?? e.meta?.[f];
    if (v) return normaliseLevel(v);
  }
  const fields = jsonFields(e.line) ?? logfmtFields(e.line);
  for (const f of LEVEL_FIELDS) {
    const v = fields?.[f];
    if (v) return normaliseLevel(v);
  }
  return 'unknown';
}

export function streamKey(stream: Record<string, string>): string {
  return Object.keys(stream)
    .sort()
    .map((k) => `${k}=${stream[k]}`)
    .join(',');
}

interface Props {
  entries: Entry[];
  onAddMatcher(name: string, value: string): void;
  onAddField(parser: 'json' | 'logfmt' | undefined, name: string, value: string): void;
  /** Labels to show before the line (the pods view shows the container). */
  prefixLabel?: string;
}

function FieldTable(props: {
  title: string;
  fields: Record<string, string>;
  onClick(name: string, value: string): void;
  hint: string;
}) {
  const names = Object.keys(props.fields).sort();
  if (names.length === 0) return null;
  return (
    <div class="fields">
      <div class="fields-title">{props.title}</div>
      <div class="fields-grid">
        {names.map((n) => (
          <button
            type="button"
            key={n}
            class="field"
            data-testid={`field-${n}`}
            title={props.hint}
            onClick={() => props.onClick(n, props.fields[n]!)}
          >
            <span class="field-name">{n}</span>
            <span class="field-value">{props.fields[n]}</span>
          </button>
        ))}
      </div>
    </div>
  );
}

interface RowProps {
  entry: Entry;
  open: boolean;
  prefixLabel?: string | undefined;
  /** Stable across renders (LogLines keeps them in a ref): rows re-render only when their entry or state changes. */
  actions: { current: Pick<Props, 'onAddMatcher' | 'onAddField'> & { toggle(key: string): void } };
}

/** One line; a class for shouldComponentUpdate: opening one of 5,000 rows re-renders two. */
class Row extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    return next.entry !== this.props.entry || next.open !== this.props.open;
  }

  override render() {
    const { entry: e, open: isOpen, prefixLabel, actions } = this.props;
    const level = entryLevel(e);
    const json = isOpen ? jsonFields(e.line) : undefined;
    const logfmt = isOpen && !json ? logfmtFields(e.line) : undefined;
    return (
      <div class={`line${isOpen ? ' open' : ''}`} data-testid="line">
        <button
          type="button"
          class="line-head"
          aria-expanded={isOpen}
          onClick={() => actions.current.toggle(e.key)}
        >
          <span class="stream-bar" style={{ background: hashColour(streamKey(e.stream)) }} />
          <span class="ts">{formatNs(e.ts)}</span>
          <span class={`level lvl-${LEVEL_CLASSES.has(level) ? level : 'unknown'}`}>{level}</span>
          {prefixLabel && e.stream[prefixLabel] && (
            <span class="prefix" style={{ borderColor: hashColour(e.stream[prefixLabel]!) }}>
              {e.stream[prefixLabel]}
            </span>
          )}
          <span class="msg">{e.line}</span>
        </button>
        {isOpen && (
          <div class="details" data-testid="details">
            <FieldTable
              title="Labels"
              fields={e.stream}
              hint="Add to the stream selector"
              onClick={(n, v) => actions.current.onAddMatcher(n, v)}
            />
            {e.meta && (
              <FieldTable
                title="Structured metadata"
                fields={e.meta}
                hint="Add as a label filter"
                onClick={(n, v) => actions.current.onAddField(undefined, n, v)}
              />
            )}
            {json && (
              <FieldTable
                title="Fields (| json)"
                fields={json}
                hint="Add as a label filter after | json"
                onClick={(n, v) => actions.current.onAddField('json', n, v)}
              />
            )}
            {logfmt && (
              <FieldTable
                title="Fields (| logfmt)"
                fields={logfmt}
                hint="Add as a label filter after | logfmt"
                onClick={(n, v) => actions.current.onAddField('logfmt', n, v)}
              />
            )}
          </div>
        )}
      </div>
    );
  }
}

export function LogLines({ entries, onAddMatcher, onAddField, prefixLabel }: Props) {
  const [open, setOpen] = useState<string | undefined>();
  // New lines (a new query): nothing is open.
  useEffect(() => setOpen(undefined), [entries]);
  const actions = useRef({
    onAddMatcher,
    onAddField,
    toggle: (key: string) => setOpen((o) => (o === key ? undefined : key)),
  });
  actions.current.onAddMatcher = onAddMatcher;
  actions.current.onAddField = onAddField;
  return (
    <div class="lines" data-testid="lines">
      {entries.map((e) => (
        <Row key={e.key} entry={e} open={open === e.key} prefixLabel={prefixLabel} actions={actions} />
      ))}
    </div>
  );
}

/** Entries of a Loki streams answer, newest first. */
export function entriesOf(
  result: { stream: Record<string, string>; values: [string, string, Record<string, unknown>?][] }[],
): Entry[] {
  const out: Entry[] = [];
  let n = 0;
  for (const s of result) {
    for (const v of s.values) {
      const meta = v[2] && typeof v[2] === 'object' ? flattenMeta(v[2]) : undefined;
      out.push({ key: `${v[0]}:${n++}`, ts: v[0], line: v[1], stream: s.stream, meta });
    }
  }
  return out.sort((a, b) =>
    a.ts.length !== b.ts.length ? b.ts.length - a.ts.length : a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0,
  );
}

function flattenMeta(m: Record<string, unknown>): Record<string, string> | undefined {
  // Loki's categorized labels: {structuredMetadata: {...}, parsed: {...}}; plain maps otherwise.
  const source = (m.structuredMetadata ?? m) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (typeof v === 'string') out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}
