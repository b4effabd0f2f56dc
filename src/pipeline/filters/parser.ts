/**
 * @module The `parser` filter: Fluentd's filter_parser on our records. It parses one field
 * (`key`, default `body`; Fluentd's `key_name`, also accepted as `keyName`) with a format of
 * parser-formats.ts, and writes the parsed values as fields (fields.ts: `message`, `log` and
 * `body` become the body, anything else an attribute, names made safe):
 *
 * ```yaml
 * - parser: { key: body, format: logfmt, reserveData: true, injectKeyPrefix: kata_ }
 * - parser: { format: regexp, expression: '/^(?<host>[^ ]*) (?<code>\d+)$/' }
 * ```
 *
 * As Fluentd (Fluentd's record is our body and attributes; labels always stay):
 * - `reserveData` (false): keep the original fields and add the parsed ones (a parsed value wins);
 *   without it the record is only the parsed values, and the body is `''` unless one of them is
 *   `message`, `log` or `body`.
 * - `removeKeyNameField` (false): with `reserveData`, drop the parsed field (the body becomes `''`)
 *   when parsing succeeds.
 * - `injectKeyPrefix`: prefix every parsed name (`kata_` gives `kata_level`).
 * - `hashValueField`: put the parsed values under this name, flattened (`parsed_user`).
 * - `reserveTime` (false): keep the record's time; otherwise the time a format carries (cri,
 *   syslog) or the `timeKey` field sets it. `timeKey` (none: Fluentd's json and regexp default to
 *   `time`; we read a time only when asked) names a parsed field read as RFC 3339 or epoch
 *   seconds/ms/µs/ns (import/formats/time-value.ts); it is removed unless `keepTimeKey`.
 *
 * Unlike Fluentd's `emit_invalid_record_to_error`, a record whose field is missing or does not
 * parse (or whose `timeKey` value is no time) never vanishes: it goes on with its body and
 * attributes unchanged plus `__error__` (`JSONParserErr`, `LogfmtParserErr`, `RegexpParserErr`,
 * `CRIParserErr`, `SyslogParserErr`) and `__error_details__` (why).
 */

import type { Options } from '../../config/options.js';
import { parseTimeValue } from '../../import/formats/time-value.js';
import { safeName } from '../../model/names.js';
import type { LogRecord } from '../../model/record.js';
import type { Filter, FilterFactory } from '../filter.js';
import { BODY_FIELD, checkFieldName, Draft, getField, withError, withMissingField } from './fields.js';
import {
  criFormat,
  FORMAT_ERRORS,
  FORMATS,
  type Format,
  type FormatParser,
  jsonFormat,
  logfmtFormat,
  regexpFormat,
  syslogFormat,
} from './parser-formats.js';
import { compilePattern, groupNames } from './regex.js';

function readKey(o: Options): string {
  if (o.has('key') && o.has('keyName')) throw o.error('keyName', 'give either key or keyName, not both');
  const name = o.has('keyName') ? 'keyName' : 'key';
  const key = o.string(name, BODY_FIELD);
  if (name === 'keyName') o.raw('key');
  else o.raw('keyName');
  return checkFieldName(key, o.at(name));
}

function readFormat(o: Options, format: Format, nowMs: () => number): FormatParser {
  const only = (key: string, wanted: Format) => {
    if (o.has(key) && format !== wanted) throw o.error(key, `is only for format ${wanted}`);
  };
  only('expression', 'regexp');
  only('timezone', 'syslog');
  switch (format) {
    case 'json':
      return jsonFormat();
    case 'logfmt':
      return logfmtFormat();
    case 'cri':
      return criFormat();
    case 'syslog': {
      const tz = o.oneOf('timezone', ['local', 'UTC'] as const, 'local');
      return syslogFormat(tz, () => BigInt(Math.trunc(nowMs())) * 1_000_000n);
    }
    case 'regexp': {
      const expression = o.string('expression');
      const names = groupNames(expression);
      if (names.length === 0) throw o.error('expression', 'needs at least one named group, (?<name>...)');
      return regexpFormat(compilePattern(expression, o.at('expression')), [...new Set(names)]);
    }
  }
}

export const parserFilter: FilterFactory = (o, ctx): Filter => {
  const format = o.oneOf('format', FORMATS);
  const key = readKey(o);
  const parse = readFormat(o, format, ctx.now);
  const reserveData = o.boolean('reserveData', false);
  const reserveTime = o.boolean('reserveTime', false);
  const removeKeyNameField = o.boolean('removeKeyNameField', false);
  const prefix = o.string('injectKeyPrefix', '');
  const hash = o.optionalString('hashValueField');
  if (hash !== undefined) checkFieldName(hash, o.at('hashValueField'), true);
  const timeKey = o.optionalString('timeKey');
  const keepTimeKey = o.boolean('keepTimeKey', false);
  o.done();
  const errorValue = FORMAT_ERRORS[format];

  return {
    type: 'parser',
    apply(record: LogRecord): LogRecord {
      const text = getField(record, key);
      if (text === undefined) return withMissingField(record, errorValue, key);
      const parsed = parse(text);
      if ('error' in parsed) return withError(record, errorValue, parsed.error);
      let values = parsed.values;
      let time = parsed.time;
      if (timeKey !== undefined) {
        const found = values.find(([k]) => k === timeKey);
        if (found !== undefined) {
          const ns = parseTimeValue(found[1]);
          if (ns === undefined)
            return withError(record, errorValue, `unreadable time ${JSON.stringify(found[1])} in ${timeKey}`);
          time = ns;
          if (!keepTimeKey) values = values.filter(([k]) => k !== timeKey);
        }
      }
      const draft = reserveData ? new Draft(record) : Draft.empty(record);
      if (reserveData && removeKeyNameField) draft.delete(key);
      for (const [k, v] of values) {
        const name = prefix + k;
        if (name === '') continue;
        draft.set(safeName(hash === undefined ? name : `${hash}_${name}`), v);
      }
      if (time !== undefined && !reserveTime) draft.timestamp = time;
      return draft.record();
    },
  };
};
