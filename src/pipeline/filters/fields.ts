/**
 * @module How a filter addresses the fields of a record, and how it writes them without touching
 * the record it was given.
 *
 * A field name is one of:
 * - `body`: the record's body (the line);
 * - `labels.<name>`: the stream label `<name>` (`labels.namespace`);
 * - `message` and `log`: aliases of the body, as Fluentd's Kubernetes configurations name the
 *   line, but only while the record has no attribute of that name (an attribute always wins).
 *   While one filter writes several fields, only the first alias written names the body; a second
 *   one (`log` after `message`) is an attribute, so that `{"log":"a","message":"b"}` loses nothing;
 * - anything else: the attribute of that name.
 *
 * What Fluentd calls "the record" (what `reserveData: false` and `keepKeys` replace) is the body
 * and the attributes; the labels are the stream's identity and stay unless a filter names one.
 * The body always exists: removing it leaves `''`. Names a filter writes must be safe names
 * ([A-Za-z0-9_:], not starting with a digit; see model/names.ts), checked when the filter is built.
 *
 * Parsed values (JSON) are flattened as LogQL's `| json` does: nested object keys joined with `_`
 * (`{"a":{"b":1}}` gives `a_b`), every value a string (numbers and booleans as their JSON text),
 * nulls skipped; unlike LogQL, an array is kept, as its JSON text. Parsed names are made safe.
 */

import { ConfigError, type ConfigPath } from '../../config/options.js';
import { safeName } from '../../model/names.js';
import type { Attributes, Labels, LogRecord } from '../../model/record.js';
import { ERROR_ATTR, ERROR_DETAILS_ATTR } from '../filter.js';

export const BODY_FIELD = 'body';
export const BODY_ALIASES: readonly string[] = ['message', 'log'];
export const LABEL_PREFIX = 'labels.';

const isAlias = (name: string): boolean => name === 'message' || name === 'log';

/** Checks a field name from the configuration; `write` also requires a safe attribute or label name. */
export function checkFieldName(name: string, path: ConfigPath, write = false): string {
  if (name === '')
    throw new ConfigError(path, 'must be a field name (body, labels.<name> or an attribute), got ""');
  if (name.startsWith(LABEL_PREFIX)) {
    const label = name.slice(LABEL_PREFIX.length);
    if (label === '')
      throw new ConfigError(path, `must name a label after "labels.", got ${JSON.stringify(name)}`);
    if (write && safeName(label) !== label)
      throw new ConfigError(path, `label name ${JSON.stringify(label)} is not safe ([A-Za-z0-9_:])`);
    return name;
  }
  if (write && name !== BODY_FIELD && safeName(name) !== name)
    throw new ConfigError(path, `attribute name ${JSON.stringify(name)} is not safe ([A-Za-z0-9_:])`);
  return name;
}

/** The value of a field, or undefined when the record has no such label or attribute. */
export function getField(record: LogRecord, name: string): string | undefined {
  if (name === BODY_FIELD) return record.body;
  if (name.startsWith(LABEL_PREFIX)) {
    const label = name.slice(LABEL_PREFIX.length);
    return Object.hasOwn(record.labels, label) ? record.labels[label] : undefined;
  }
  if (Object.hasOwn(record.attributes, name)) return record.attributes[name];
  return isAlias(name) ? record.body : undefined;
}

/** The record with `__error__` and `__error_details__` set; body, labels and the rest unchanged. */
export function withError(record: LogRecord, error: string, details: string): LogRecord {
  return {
    ...record,
    attributes: { ...record.attributes, [ERROR_ATTR]: error, [ERROR_DETAILS_ATTR]: details },
  };
}

/** The record marked with `error` because its field `name` does not exist. */
export function withMissingField(record: LogRecord, error: string, name: string): LogRecord {
  return withError(record, error, `field ${JSON.stringify(name)} does not exist`);
}

/**
 * A copy-on-write draft of a record: a filter reads and writes fields on it, then `record()` gives
 * the original object when nothing changed, else a new record.
 */
export class Draft {
  body: string;
  timestamp: bigint;
  private labels: Labels;
  private attributes: Attributes;
  private ownLabels = false;
  private ownAttributes = false;
  private changed = false;
  /** The alias that named the body in this draft, if one did. */
  private aliasBody: string | undefined;

  constructor(private readonly base: LogRecord) {
    this.body = base.body;
    this.timestamp = base.timestamp;
    this.labels = base.labels;
    this.attributes = base.attributes;
  }

  /** A draft of `base` with no attributes and an empty body (Fluentd's new, empty record). */
  static empty(base: LogRecord): Draft {
    const d = new Draft(base);
    d.attributes = {};
    d.ownAttributes = true;
    d.body = '';
    d.changed = true;
    return d;
  }

  get(name: string): string | undefined {
    if (name === BODY_FIELD) return this.body;
    if (name.startsWith(LABEL_PREFIX)) {
      const label = name.slice(LABEL_PREFIX.length);
      return Object.hasOwn(this.labels, label) ? this.labels[label] : undefined;
    }
    if (Object.hasOwn(this.attributes, name)) return this.attributes[name];
    return isAlias(name) && (this.aliasBody === undefined || this.aliasBody === name) ? this.body : undefined;
  }

  set(name: string, value: string): void {
    if (name === BODY_FIELD) {
      this.setBody(value);
      return;
    }
    if (name.startsWith(LABEL_PREFIX)) {
      const label = name.slice(LABEL_PREFIX.length);
      if (this.labels[label] === value && Object.hasOwn(this.labels, label)) return;
      this.writableLabels()[label] = value;
      this.changed = true;
      return;
    }
    if (isAlias(name) && !Object.hasOwn(this.attributes, name)) {
      if (this.aliasBody === undefined || this.aliasBody === name) {
        this.aliasBody = name;
        this.setBody(value);
        return;
      }
    }
    if (Object.hasOwn(this.attributes, name) && this.attributes[name] === value) return;
    this.writableAttributes()[name] = value;
    this.changed = true;
  }

  delete(name: string): void {
    if (name === BODY_FIELD) {
      this.setBody('');
      return;
    }
    if (name.startsWith(LABEL_PREFIX)) {
      const label = name.slice(LABEL_PREFIX.length);
      if (!Object.hasOwn(this.labels, label)) return;
      delete this.writableLabels()[label];
      this.changed = true;
      return;
    }
    if (Object.hasOwn(this.attributes, name)) {
      delete this.writableAttributes()[name];
      this.changed = true;
      return;
    }
    if (isAlias(name) && (this.aliasBody === undefined || this.aliasBody === name)) this.setBody('');
  }

  /** Keeps only the named attributes (and the body only when named); labels stay. */
  keepOnly(names: ReadonlySet<string>): void {
    const keepBody =
      names.has(BODY_FIELD) || BODY_ALIASES.some((a) => names.has(a) && !Object.hasOwn(this.attributes, a));
    if (!keepBody) this.setBody('');
    for (const name of Object.keys(this.attributes)) {
      if (!names.has(name)) {
        delete this.writableAttributes()[name];
        this.changed = true;
      }
    }
  }

  record(): LogRecord {
    if (!this.changed && this.timestamp === this.base.timestamp) return this.base;
    return {
      timestamp: this.timestamp,
      observedTimestamp: this.base.observedTimestamp,
      labels: this.labels,
      attributes: this.attributes,
      body: this.body,
    };
  }

  private setBody(value: string): void {
    if (this.body === value) return;
    this.body = value;
    this.changed = true;
  }

  private writableLabels(): Labels {
    if (!this.ownLabels) {
      this.labels = { ...this.labels };
      this.ownLabels = true;
    }
    return this.labels;
  }

  private writableAttributes(): Attributes {
    if (!this.ownAttributes) {
      this.attributes = { ...this.attributes };
      this.ownAttributes = true;
    }
    return this.attributes;
  }
}

/**
 * Flattens a parsed JSON value under `key` into `out` (see the module comment): objects recurse
 * with `_`, arrays become their JSON text, nulls are skipped, scalars become strings.
 */
export function flattenParsed(key: string, value: unknown, out: [string, string][]): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    out.push([key, JSON.stringify(value)]);
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      flattenParsed(key === '' ? k : `${key}_${k}`, v, out);
    }
    return;
  }
  out.push([key, typeof value === 'string' ? value : String(value)]);
}

type TemplatePart = string | { readonly field: string };

/**
 * A template of text and `${field}` references (`${labels.namespace}/${pod}`); `$$` is a literal
 * `$`. A missing field renders as `''`, as Fluentd's `${record["x"]}` of a missing key does.
 */
export class Template {
  private constructor(private readonly parts: readonly TemplatePart[]) {}

  static compile(text: string, path: ConfigPath): Template {
    const parts: TemplatePart[] = [];
    let lit = '';
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '$' && text[i + 1] === '$') {
        lit += '$';
        i += 2;
      } else if (c === '$' && text[i + 1] === '{') {
        const end = text.indexOf('}', i + 2);
        if (end < 0) throw new ConfigError(path, `unclosed "\${" at offset ${i} in ${JSON.stringify(text)}`);
        const field = text.slice(i + 2, end).trim();
        checkFieldName(field, path);
        if (lit !== '') parts.push(lit);
        lit = '';
        parts.push({ field });
        i = end + 1;
      } else {
        lit += c;
        i++;
      }
    }
    if (lit !== '' || parts.length === 0) parts.push(lit);
    return new Template(parts);
  }

  /** The fields the template reads. */
  get fields(): string[] {
    return this.parts.flatMap((p) => (typeof p === 'string' ? [] : [p.field]));
  }

  render(get: (field: string) => string | undefined): string {
    let out = '';
    for (const p of this.parts) out += typeof p === 'string' ? p : (get(p.field) ?? '');
    return out;
  }
}
