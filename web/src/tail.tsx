/**
 * @module Live tail of the current query over Loki's `/loki/api/v1/tail` WebSocket: newest first,
 * in a bounded buffer (the oldest lines leave past BUFFER_LINES, counted), with pause (lines keep
 * arriving and wait, within the same bound) and resume. The server's own drops (a slow reader:
 * `dropped_entries`) are counted and shown too.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, openWebSocket } from './api.ts';
import { errorText, type ViewProps } from './explore.tsx';
import { type Entry, LogLines } from './lines.tsx';
import { addFieldFilter, addStreamMatcher, isMetricQuery } from './logql.ts';
import { nsOf } from './time.ts';

export const BUFFER_LINES = 2000;

interface TailMessage {
  streams?: { stream: Record<string, string>; values: [string, string][] }[];
  dropped_entries?: unknown[] | null;
}

export function Tail({ state, update }: ViewProps) {
  const [entries, setEntries] = useState<Entry[]>([]);
  const [paused, setPaused] = useState(false);
  const [status, setStatus] = useState('connecting');
  const [dropped, setDropped] = useState(0);
  const [serverDropped, setServerDropped] = useState(0);
  const pending = useRef<Entry[]>([]);
  const pausedRef = useRef(false);
  const counter = useRef(0);
  pausedRef.current = paused;

  useEffect(() => {
    const query = state.query.trim();
    setEntries([]);
    setDropped(0);
    setServerDropped(0);
    pending.current = [];
    if (!query || isMetricQuery(query)) {
      setStatus('A live tail needs a log query (one that starts with a {selector}).');
      return;
    }
    setStatus('connecting');
    const ws = openWebSocket('/loki/api/v1/tail', {
      query,
      limit: '100',
      start: nsOf(Date.now() - 60_000),
    });
    ws.onopen = () => setStatus('live');
    // A browser does not see why an upgrade was refused: the same query over HTTP says it (a 401
    // there also asks for a token).
    ws.onerror = () => {
      setStatus('the connection failed');
      getJson('/loki/api/v1/query_range', { query, limit: '1', start: nsOf(Date.now() - 60_000) }).then(
        () => undefined,
        (err) => setStatus(`the connection failed: ${errorText(err)}`),
      );
    };
    ws.onclose = (e) =>
      setStatus((old) =>
        old.startsWith('the connection failed')
          ? old
          : e.code === 1000
            ? 'closed'
            : `closed (${e.code}${e.reason ? `: ${e.reason}` : ''})`,
      );
    ws.onmessage = (msg) => {
      let m: TailMessage;
      try {
        m = JSON.parse(String(msg.data)) as TailMessage;
      } catch {
        return;
      }
      if (m.dropped_entries?.length) setServerDropped((n) => n + m.dropped_entries!.length);
      const fresh: Entry[] = [];
      for (const s of m.streams ?? []) {
        for (const [ts, line] of s.values)
          fresh.push({ key: `t${counter.current++}`, ts, line, stream: s.stream });
      }
      if (fresh.length === 0) return;
      fresh.sort((a, b) => (a.ts.length !== b.ts.length ? b.ts.length - a.ts.length : a.ts < b.ts ? 1 : -1));
      if (pausedRef.current) {
        pending.current = [...fresh, ...pending.current];
        if (pending.current.length > BUFFER_LINES) {
          setDropped((n) => n + pending.current.length - BUFFER_LINES);
          pending.current = pending.current.slice(0, BUFFER_LINES);
        }
        setStatus(`paused, ${pending.current.length} new lines waiting`);
        return;
      }
      setEntries((old) => {
        const next = [...fresh, ...old];
        if (next.length > BUFFER_LINES) {
          setDropped((n) => n + next.length - BUFFER_LINES);
          return next.slice(0, BUFFER_LINES);
        }
        return next;
      });
    };
    return () => ws.close(1000);
  }, [state.query]);

  const resume = (): void => {
    setPaused(false);
    const waiting = pending.current;
    pending.current = [];
    setEntries((old) => {
      const next = [...waiting, ...old];
      if (next.length > BUFFER_LINES) setDropped((n) => n + next.length - BUFFER_LINES);
      return next.slice(0, BUFFER_LINES);
    });
    setStatus('live');
  };

  return (
    <section class="tail" aria-label="Live tail">
      <div class="toolbar">
        <code class="tail-query">{state.query || '(no query)'}</code>
        <div class="toolbar-side">
          <span class="tail-status" data-testid="tail-status">
            {status}
          </span>
          {paused ? (
            <button type="button" class="primary" onClick={resume} data-testid="resume">
              Resume
            </button>
          ) : (
            <button type="button" onClick={() => setPaused(true)} data-testid="pause">
              Pause
            </button>
          )}
          <button type="button" onClick={() => update({ view: 'explore' }, true)}>
            Back to Explore
          </button>
        </div>
      </div>
      <div class="summary">
        {entries.length} lines (at most {BUFFER_LINES} kept, newest first)
        {dropped > 0 ? `, ${dropped} older lines let go` : ''}
        {serverDropped > 0 ? `, ${serverDropped} dropped by the server (reading too slowly)` : ''}
      </div>
      <LogLines
        entries={entries}
        onAddMatcher={(n, v) => update({ query: addStreamMatcher(state.query, n, v) })}
        onAddField={(p, n, v) => update({ query: addFieldFilter(state.query, p, n, v) })}
      />
    </section>
  );
}
