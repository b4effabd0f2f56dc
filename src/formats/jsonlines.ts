/**
 * @module JSON lines from any application: the body is the line; the time comes from the first of
 * `time`, `timestamp`, `ts`, `@timestamp` present. A line without a time is given the context's
 * stand-in (the file's modification time, see types.ts) or skipped; never the time of the import.
 * A time field that is there but cannot be read makes the line malformed rather than silently "now".
 */
import type { Labels } from '../model/record.js';
import { parseObject } from './json-util.js';
import { missingTime, timeFromFields } from './time-value.js';
import type { LineParser, ParserFactory } from './types.js';

const LABELS: Labels = {};

export const jsonLinesParser: ParserFactory = (ctx, sink): LineParser => ({
  line(text, lineNo) {
    const o = parseObject(text);
    if (o === undefined) {
      sink.malformed(lineNo, 'not a JSON object');
      return;
    }
    const t = timeFromFields((k) => o[k]);
    if (t.bad !== undefined) {
      sink.malformed(lineNo, `unreadable time in "${t.bad}"`);
      return;
    }
    const ts = t.ns ?? missingTime(ctx, sink, lineNo);
    if (ts !== undefined) sink.entry(LABELS, ts, text.trimEnd());
  },
  end() {},
});
