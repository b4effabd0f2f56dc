/**
 * @module The `kata` filter: Kata Containers' runtime, shim and agent messages made filterable, as
 * Kata's own Fluentd guide does with `@type parser`, `format logfmt`, `reserve_data true` and
 * `inject_key_prefix kata_`.
 *
 * ```yaml
 * - kata: {}              # the body; or { key: MESSAGE } for another field
 * ```
 *
 * The field (`key`, default `body`) is a Kata logfmt message (`time=... level=info msg="..."
 * source=virtcontainers subsystem=sandbox ...`) or, with Kata's `--log-format=json`, a JSON object;
 * its fields are added as `kata_`-prefixed attributes, exactly as the journal source does for Kata
 * entries (formats/journal-records.ts `kataAttributes`: nested JSON objects joined with `_`, array
 * items by index). The body, labels, other attributes and time are kept (`kata_time` holds Kata's
 * own time). A record whose field is missing or is neither is kept with `__error__=KataParserErr`.
 */

import { kataAttributes } from '../../formats/journal-records.js';
import type { LogRecord } from '../../model/record.js';
import type { Filter, FilterFactory } from '../filter.js';
import { BODY_FIELD, checkFieldName, getField, withError, withMissingField } from './fields.js';

export const KATA_ERROR = 'KataParserErr';

export const kataFilter: FilterFactory = (o): Filter => {
  const key = checkFieldName(o.string('key', BODY_FIELD), o.at('key'));
  o.done();
  return {
    type: 'kata',
    apply(record: LogRecord): LogRecord {
      const text = getField(record, key);
      if (text === undefined) return withMissingField(record, KATA_ERROR, key);
      const attrs = kataAttributes(text);
      if (Object.keys(attrs).length === 0)
        return withError(record, KATA_ERROR, 'not a Kata logfmt or JSON message');
      return { ...record, attributes: { ...record.attributes, ...attrs } };
    },
  };
};
