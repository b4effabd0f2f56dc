/**
 * @module The formats of the `parser` filter: each turns one field's text into parsed values (in
 * order, names not yet prefixed or made safe) and, for formats that carry one, a time; or says why
 * it cannot, with the `__error__` value of that format.
 *
 * - `json`: a JSON object, flattened (fields.ts); anything else is `JSONParserErr`.
 * - `logfmt`: `key=value` pairs (formats/logfmt.ts); a text without one is `LogfmtParserErr`.
 * - `regexp`: the named groups of `expression` (RE2, unanchored, as Ruby's `=~`); a group that
 *   takes no part is left out; no match is `RegexpParserErr`.
 * - `cri`: `<time> <stream> <P|F> <message>` gives Fluentd's cri parser fields `stream`, `logtag`
 *   and `message` (the body, see fields.ts) and the time; a partial line stays partial (`logtag`
 *   `P`: a filter sees one record at a time). Not a CRI line is `CRIParserErr`.
 * - `syslog`: RFC 5424 or RFC 3164 (formats/syslog.ts), with Fluentd's syslog parser fields
 *   `pri` (when the text has one), `host`, `ident`, `pid`, `msgid`, `extradata` (RFC 5424
 *   structured data as text) and `message`, plus `facility` and `severity` names, and the time. A
 *   text without `<PRI>` is read as RFC 3164 without one (Fluentd's `with_priority false`). A
 *   malformed PRI, timestamp or structured data, or no timestamp at all, is `SyslogParserErr`.
 */
import type RE2 from 're2';
import { parseCriLine } from '../../formats/cri.js';
import { parseLogfmt } from '../../formats/logfmt.js';
import { FACILITIES, parseSyslog, SEVERITIES, type StructuredDataElement } from '../../formats/syslog.js';
import { checkJsonBounds, MAX_JSON_DEPTH } from '../../util/json-bounds.js';
import { flattenParsed } from './fields.js';

export const FORMATS = ['json', 'logfmt', 'regexp', 'cri', 'syslog'] as const;
export type Format = (typeof FORMATS)[number];

export const FORMAT_ERRORS: Readonly<Record<Format, string>> = {
  json: 'JSONParserErr',
  logfmt: 'LogfmtParserErr',
  regexp: 'RegexpParserErr',
  cri: 'CRIParserErr',
  syslog: 'SyslogParserErr',
};

export type Parsed =
  | { readonly values: [string, string][]; readonly time?: bigint }
  | { readonly error: string };

export type FormatParser = (text: string) => Parsed;

export function jsonFormat(): FormatParser {
  return (text) => {
    let v: unknown;
    try {
      // A line nested deeper than any JSON body may be would overflow the stack in flattenParsed
      // (and JSON.stringify) and fail the whole batch: it is an unparsable line instead.
      checkJsonBounds(text, { maxDepth: MAX_JSON_DEPTH, maxValues: Number.POSITIVE_INFINITY });
      v = JSON.parse(text);
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'not a JSON object' };
    const values: [string, string][] = [];
    flattenParsed('', v, values);
    return { values };
  };
}

const LOGFMT_PAIR = /(?:^|\s)[^\s="]+=/;

export function logfmtFormat(): FormatParser {
  return (text) => {
    if (!LOGFMT_PAIR.test(text)) return { error: 'no key=value pair' };
    return { values: [...parseLogfmt(text)] };
  };
}

export function regexpFormat(re: RE2, names: readonly string[]): FormatParser {
  return (text) => {
    const m = re.exec(text);
    if (!m) return { error: 'pattern not matched' };
    const values: [string, string][] = [];
    for (const name of names) {
      const v = m.groups?.[name];
      if (v !== undefined) values.push([name, v]);
    }
    return { values };
  };
}

export function criFormat(): FormatParser {
  return (text) => {
    const line = parseCriLine(text);
    if (typeof line === 'string') return { error: line };
    return {
      values: [
        ['stream', line.stream],
        ['logtag', line.partial ? 'P' : 'F'],
        ['message', line.content],
      ],
      time: line.ts,
    };
  };
}

const sdText = (sd: readonly StructuredDataElement[]): string =>
  sd.length === 0
    ? '-'
    : sd
        .map(
          (e) => `[${e.id}${e.params.map(([k, v]) => ` ${k}="${v.replace(/["\\\]]/g, '\\$&')}"`).join('')}]`,
        )
        .join('');

export function syslogFormat(timezone: 'local' | 'UTC', nowNs: () => bigint): FormatParser {
  return (text) => {
    const hasPri = text.startsWith('<');
    const m = parseSyslog(hasPri ? text : `<13>${text}`, { timezone, now: nowNs() });
    if (m.problem !== undefined) return { error: m.problem.replace('_', ' ') };
    if (m.timestamp === undefined) return { error: 'no timestamp' };
    const values: [string, string][] = [];
    if (hasPri) values.push(['pri', String(m.facility * 8 + m.severity)]);
    values.push(['facility', FACILITIES[m.facility] ?? String(m.facility)]);
    values.push(['severity', SEVERITIES[m.severity] ?? String(m.severity)]);
    if (m.hostname !== undefined) values.push(['host', m.hostname]);
    if (m.appname !== undefined) values.push(['ident', m.appname]);
    if (m.procid !== undefined) values.push(['pid', m.procid]);
    if (m.msgid !== undefined) values.push(['msgid', m.msgid]);
    if (m.format === 5424) values.push(['extradata', sdText(m.structuredData)]);
    values.push(['message', m.msg]);
    return { values, time: m.timestamp };
  };
}
