/**
 * @module The LogQL editor: a textarea over a highlighted copy of its text (no editor library: a
 * few kilobytes instead of CodeMirror's hundred), completion of label names, label values (from
 * `/labels` and `/label/NAME/values`), functions and stages, and the server's parse error marked at
 * the character it names. Ctrl/Cmd+Enter runs the query; Tab or Enter takes a completion.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Completion, completionAt, FUNCTIONS, STAGES, tokenize } from './logql.ts';

export interface EditorError {
  offset?: number;
  message: string;
}

interface Props {
  value: string;
  onChange(value: string): void;
  onRun(): void;
  error?: EditorError | undefined;
  labelNames(): Promise<string[]>;
  labelValues(label: string): Promise<string[]>;
}

interface Popup {
  completion: Completion;
  items: string[];
  active: number;
}

function Highlighted({ value, error }: { value: string; error?: EditorError | undefined }) {
  const tokens = tokenize(value);
  const out = [];
  let pos = 0;
  const at = error?.offset;
  for (const [i, t] of tokens.entries()) {
    const end = pos + t.text.length;
    if (at !== undefined && at >= pos && at < end) {
      const k = at - pos;
      out.push(
        <span key={`${i}a`} class={`tok-${t.kind}`}>
          {t.text.slice(0, k)}
        </span>,
        <span key={`${i}e`} class={`tok-${t.kind} tok-error`} data-testid="error-mark">
          {t.text.slice(k, k + 1)}
        </span>,
        <span key={`${i}b`} class={`tok-${t.kind}`}>
          {t.text.slice(k + 1)}
        </span>,
      );
    } else {
      out.push(
        <span key={i} class={`tok-${t.kind}`}>
          {t.text}
        </span>,
      );
    }
    pos = end;
  }
  if (at !== undefined && at >= value.length) {
    out.push(
      <span key="end" class="tok-error" data-testid="error-mark">
        {' '}
      </span>,
    );
  }
  return <>{out}</>;
}

/** Times a completion whose answer failed is tried, the text unchanged. */
const COMPLETION_ATTEMPTS = 3;

export function QueryEditor(props: Props) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const pre = useRef<HTMLPreElement>(null);
  const [popup, setPopup] = useState<Popup | undefined>();
  /** Label names (under '') and each label's values (under its name), asked once per range. */
  const answers = useRef(new Map<string, Promise<string[]>>());

  const rows = useMemo(() => Math.min(8, Math.max(2, props.value.split('\n').length)), [props.value]);

  useEffect(() => {
    answers.current.clear();
  }, [props.labelNames]);

  /** The answer under `key`, asked once; a failed one is not kept: the next keystroke asks again. */
  const answer = (key: string, ask: () => Promise<string[]>): Promise<string[]> => {
    const cache = answers.current;
    let p = cache.get(key);
    if (!p) {
      const asked = ask();
      asked.catch(() => {
        if (cache.get(key) === asked) cache.delete(key);
      });
      cache.set(key, asked);
      p = asked;
    }
    return p;
  };

  const complete = async (value: string, cursor: number, explicit: boolean, attempt = 1): Promise<void> => {
    const c = completionAt(value, cursor);
    if (!c || (!explicit && c.kind !== 'value' && c.prefix === '' && c.kind !== 'label')) {
      setPopup(undefined);
      return;
    }
    let all: string[];
    try {
      if (c.kind === 'label') all = await answer('', props.labelNames);
      else if (c.kind === 'value') all = await answer(c.label, () => props.labelValues(c.label));
      else all = c.kind === 'stage' ? STAGES : FUNCTIONS;
    } catch {
      all = [];
      // A failed answer (a server too busy to say) is asked again a little later while the text
      // stays as it is, not only at the next keystroke: the popup would otherwise stay empty.
      if (attempt < COMPLETION_ATTEMPTS) {
        setTimeout(() => {
          if (ref.current?.value === value) void complete(value, cursor, explicit, attempt + 1);
        }, 500 * attempt);
      }
    }
    const prefix = c.prefix.toLowerCase();
    const items = all.filter((s) => s.toLowerCase().startsWith(prefix) && s !== c.prefix).slice(0, 50);
    // The text may have moved on while the names came.
    if (ref.current && ref.current.value !== value) return;
    setPopup(items.length > 0 ? { completion: c, items, active: 0 } : undefined);
  };

  const accept = (item: string): void => {
    const ta = ref.current;
    if (!ta || !popup) return;
    const cursor = ta.selectionStart;
    const c = popup.completion;
    let insert = item;
    if (c.kind === 'value') insert = item.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    else if (c.kind === 'label') insert = `${item}=`;
    const next = props.value.slice(0, c.from) + insert + props.value.slice(cursor);
    props.onChange(next);
    setPopup(undefined);
    const caret = c.from + insert.length;
    requestAnimationFrame(() => {
      // Typed on meanwhile (a slow frame): the caret stays where the typing put it; moving it back
      // would put the next characters before what was typed.
      if (ta.value !== next) return;
      ta.focus();
      ta.setSelectionRange(caret, caret);
      if (c.kind === 'label') void complete(next, caret, true);
    });
  };

  const onKeyDown = (e: KeyboardEvent): void => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      setPopup(undefined);
      props.onRun();
      return;
    }
    if (e.key === ' ' && e.ctrlKey) {
      e.preventDefault();
      const ta = ref.current!;
      void complete(ta.value, ta.selectionStart, true);
      return;
    }
    if (!popup) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = popup.items.length;
      setPopup({ ...popup, active: (popup.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n });
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault();
      accept(popup.items[popup.active]!);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      setPopup(undefined);
    }
  };

  const onInput = (e: Event): void => {
    const ta = e.currentTarget as HTMLTextAreaElement;
    props.onChange(ta.value);
    void complete(ta.value, ta.selectionStart, false);
  };

  const syncScroll = (): void => {
    if (pre.current && ref.current) {
      pre.current.scrollTop = ref.current.scrollTop;
      pre.current.scrollLeft = ref.current.scrollLeft;
    }
  };

  return (
    <div class="editor">
      <div class="editor-box" style={{ height: `${rows * 1.5 + 1}em` }}>
        <pre class="editor-highlight" aria-hidden="true" ref={pre}>
          <Highlighted value={props.value} error={props.error} />
          {'\n'}
        </pre>
        <textarea
          ref={ref}
          class="editor-input"
          aria-label="LogQL query"
          data-testid="query"
          spellcheck={false}
          autocomplete="off"
          placeholder='{namespace="default"} |= "error"   (Ctrl+Enter runs, Ctrl+Space completes)'
          value={props.value}
          onInput={onInput}
          onKeyDown={onKeyDown}
          onScroll={syncScroll}
          onBlur={() => setTimeout(() => setPopup(undefined), 150)}
        />
      </div>
      {popup && (
        <div class="completions" role="listbox" data-testid="completions">
          {popup.items.map((item, i) => (
            <div
              key={item}
              role="option"
              tabIndex={-1}
              aria-selected={i === popup.active}
              class={i === popup.active ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(item);
              }}
            >
              <span class="completion-kind">{popup.completion.kind}</span> {item}
            </div>
          ))}
        </div>
      )}
      {props.error && (
        <div class="query-error" role="alert" data-testid="query-error">
          {props.error.offset !== undefined && (
            <span class="error-pos">
              at col {props.error.offset + 1}
              {': '}
            </span>
          )}
          {props.error.message}
        </div>
      )}
    </div>
  );
}
