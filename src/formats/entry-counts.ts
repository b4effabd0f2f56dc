/**
 * @module What became of a write's entries, as the server tells its client in response headers:
 * `X-Kjournal-Entries-Stored: <n>`, `X-Kjournal-Entries-Duplicate: <n>` (identical entries already
 * stored) and `X-Kjournal-Entries-Refused: too_old=3, too_new=1` (by reason). Loki has no such
 * headers; its 400 only lists messages. `kjournal import` reads them to count honestly, and falls
 * back on Loki's grouped messages (or on "all stored" after a 2xx) when a server does not send them.
 */

export const STORED_HEADER = 'x-kjournal-entries-stored';
export const DUPLICATE_HEADER = 'x-kjournal-entries-duplicate';
export const REFUSED_HEADER = 'x-kjournal-entries-refused';

export interface EntryCounts {
  readonly stored: number;
  readonly duplicates: number;
  /** Entries refused, by reason (`too_old`, `too_new`, ...). */
  readonly refused: Readonly<Record<string, number>>;
}

/** `too_old=3, too_new=1`, reasons sorted; empty when nothing was refused. */
export function formatRefused(refused: Readonly<Record<string, number>>): string {
  return Object.keys(refused)
    .filter((k) => (refused[k] ?? 0) > 0)
    .sort()
    .map((k) => `${k}=${refused[k]}`)
    .join(', ');
}

/** The three headers of `counts` (the refused one only when something was). */
export function entryCountHeaders(counts: EntryCounts): Record<string, string> {
  const h: Record<string, string> = {
    [STORED_HEADER]: String(counts.stored),
    [DUPLICATE_HEADER]: String(counts.duplicates),
  };
  const refused = formatRefused(counts.refused);
  if (refused !== '') h[REFUSED_HEADER] = refused;
  return h;
}

function count(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return undefined;
  return Number(text);
}

/**
 * The counts of a response's headers (names lower-case, as node gives them); undefined when the
 * server did not send `X-Kjournal-Entries-Stored` (a plain Loki) or sent something unreadable.
 */
export function parseEntryCountHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): EntryCounts | undefined {
  const one = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const stored = count(one(STORED_HEADER));
  if (stored === undefined) return undefined;
  const refused: Record<string, number> = {};
  const text = one(REFUSED_HEADER)?.trim() ?? '';
  if (text !== '') {
    for (const part of text.split(',')) {
      const m = /^\s*([A-Za-z0-9_]+)\s*=\s*(\d+)\s*$/.exec(part);
      if (!m) return undefined;
      refused[m[1]!] = (refused[m[1]!] ?? 0) + Number(m[2]);
    }
  }
  return { stored, duplicates: count(one(DUPLICATE_HEADER)) ?? 0, refused };
}

/** Where each of Loki's validation messages starts, after an optional `N errors like: `. */
const LOKI_MESSAGE =
  /(?:^|; )(?:(\d+) errors like: )?(?=entry for stream '|stream '|Max entry size '|error at least one label pair|Error parsing labels ')/g;

function lokiReason(message: string): string {
  if (/^entry for stream '.*' has timestamp too old: /s.test(message)) return 'too_old';
  if (/^entry for stream '.*' has timestamp too new: /s.test(message)) return 'too_new';
  if (message.startsWith('Max entry size ')) return 'line_too_long';
  if (/structured metadata/.test(message)) return 'structured_metadata';
  return 'invalid_labels';
}

/**
 * Refused entries by reason, read from the body of a plain Loki's 400 (its validation messages,
 * grouped by util.GroupedErrors as `N errors like: <msg>; ...`); undefined when the body is not
 * made of such messages. An estimate: a stream whose labels fail counts once, however many
 * entries it had.
 */
export function countLokiRefusals(body: string): Record<string, number> | undefined {
  const text = body.trim();
  const starts: { at: number; text: number; n: number }[] = [];
  for (const m of text.matchAll(LOKI_MESSAGE)) {
    starts.push({ at: m.index, text: m.index + m[0].length, n: m[1] === undefined ? 1 : Number(m[1]) });
  }
  if (starts.length === 0 || starts[0]!.at !== 0) return undefined;
  const refused: Record<string, number> = {};
  for (let i = 0; i < starts.length; i++) {
    const s = starts[i]!;
    const message = text.slice(s.text, i + 1 < starts.length ? starts[i + 1]!.at : text.length);
    const reason = lokiReason(message);
    refused[reason] = (refused[reason] ?? 0) + s.n;
  }
  return refused;
}
