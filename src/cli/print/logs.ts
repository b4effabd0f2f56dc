/**
 * @module Log entries on the terminal, in logcli's output modes and two of kjournal's own:
 * - `default`: `<RFC 3339 time> <labels, padded> <line>`, the labels common to every stream left out
 *   (they go once to stderr), the line trimmed, as logcli prints it;
 * - `raw`: the line as it is;
 * - `jsonl`: one JSON object per entry: `{"labels":…,"line":…,"timestamp":…}` (all the labels, and
 *   `metadata` when the entry has structured metadata);
 * - `wide`: nanosecond times, every label, structured metadata as `k=v`, then the line.
 * (`json`, the whole response, is not per entry: the command prints it.)
 */

import { labelsKey } from '../../model/labels-key.js';
import type { Labels } from '../../model/record.js';
import { colorFor, type Palette } from './color.js';
import { formatTimestamp, type Zone } from './time.js';

export const LOG_MODES = ['default', 'raw', 'jsonl', 'json', 'wide'] as const;
export type OutputMode = (typeof LOG_MODES)[number];

export interface LogEntry {
  /** Nanoseconds since the epoch. */
  readonly ts: bigint;
  /** Every label of the entry's stream. */
  readonly labels: Labels;
  /** The labels to show in the default output (the stream's, less those common to all). */
  readonly shown: Labels;
  readonly line: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface LogFormatOptions {
  readonly mode: Exclude<OutputMode, 'json'>;
  readonly zone: Zone;
  readonly colors: Palette;
  readonly noLabels?: boolean;
}

/** One entry as one line of output (without the newline); `width` pads the labels column. */
export function formatEntry(e: LogEntry, width: number, o: LogFormatOptions): string {
  const c = o.colors;
  switch (o.mode) {
    case 'raw':
      return e.line;
    case 'jsonl': {
      const obj: Record<string, unknown> = {};
      if (!o.noLabels) obj.labels = sorted(e.labels);
      obj.line = e.line;
      if (e.metadata !== undefined && Object.keys(e.metadata).length > 0) obj.metadata = sorted(e.metadata);
      obj.timestamp = formatTimestamp(e.ts, o.zone, true);
      return JSON.stringify(obj);
    }
    case 'wide': {
      const ts = c.paint('blue', formatTimestamp(e.ts, o.zone, true));
      const meta = Object.entries(e.metadata ?? {})
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(' ');
      const parts = [ts];
      if (!o.noLabels) {
        const labels = labelsKey(e.labels);
        parts.push(c.paint(colorFor(labels), labels.padEnd(width)));
      }
      if (meta !== '') parts.push(c.paint('green', meta));
      parts.push(e.line.trim());
      return parts.join(' ');
    }
    default: {
      const ts = c.paint('blue', formatTimestamp(e.ts, o.zone, false));
      if (o.noLabels) return `${ts} ${e.line.trim()}`;
      // Each stream in its own colour, chosen by all its labels (not only those shown).
      const shown = labelsKey(e.shown);
      return `${ts} ${c.paint(colorFor(labelsKey(e.labels)), shown.padEnd(width))} ${e.line.trim()}`;
    }
  }
}

/** The labels column's width for a batch of entries: the widest label set that will be printed. */
export function labelsWidth(entries: readonly LogEntry[], mode: OutputMode, fixed = 0): number {
  let w = fixed;
  if (mode !== 'default' && mode !== 'wide') return w;
  for (const e of entries) w = Math.max(w, labelsKey(mode === 'wide' ? e.labels : e.shown).length);
  return w;
}

/** A copy with the keys in order, as Go's encoding/json writes a map. */
function sorted(o: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}
