/**
 * @module The state of one entry while stages run: Loki's LabelsBuilder. Labels live in exactly one
 * category; stream and metadata objects are the caller's until a stage changes them (copy on write);
 * the error and its details are kept apart, as Loki keeps them, and only become labels at the end.
 */
import type { Labels } from '../../model/record.js';
import { ERROR_DETAILS_LABEL, ERROR_LABEL } from './errors.js';
import type { LogPipelineOutput } from './types.js';

export type Category = 'stream' | 'metadata' | 'parsed';

/** Own string property of a label object, or undefined (never a prototype member). */
export function own(obj: Labels, name: string): string | undefined {
  if (!Object.hasOwn(obj, name)) return undefined;
  const v = obj[name];
  return typeof v === 'string' ? v : undefined;
}

/** Sets an own property, even `__proto__`. */
export function put(obj: Labels, name: string, value: string): void {
  if (name === '__proto__') {
    Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[name] = value;
  }
}

export class EntryState {
  ts = 0n;
  line = '';
  /** The stream labels as they came in: Loki's base, for the `_extracted` rule. */
  base: Labels = {};
  stream: Labels = {};
  metadata: Labels = {};
  parsed: Labels = {};
  private streamOwned = false;
  private metadataOwned = false;
  private parsedCount = 0;
  err = '';
  errDetails = '';

  reset(ts: bigint, line: string, stream: Labels, metadata: Labels): void {
    this.ts = ts;
    this.line = line;
    this.base = stream;
    this.stream = stream;
    this.metadata = metadata;
    this.parsed = {};
    this.parsedCount = 0;
    this.streamOwned = false;
    this.metadataOwned = false;
    this.err = '';
    this.errDetails = '';
    if (!plainMetadata(stream, metadata)) {
      const added = addMetadata(stream, metadata);
      this.metadata = added.metadata;
      this.err = added.err;
      this.errDetails = added.errDetails;
    }
  }

  /** A stream label of the original entry has this name (Loki's BaseHas). */
  baseHas(name: string): boolean {
    return Object.hasOwn(this.base, name);
  }

  get(name: string): string | undefined {
    if (this.parsedCount > 0) {
      const p = own(this.parsed, name);
      if (p !== undefined) return p;
    }
    return own(this.metadata, name) ?? own(this.stream, name);
  }

  category(name: string): Category | undefined {
    if (this.parsedCount > 0 && Object.hasOwn(this.parsed, name)) return 'parsed';
    if (Object.hasOwn(this.metadata, name)) return 'metadata';
    if (Object.hasOwn(this.stream, name)) return 'stream';
    return undefined;
  }

  /**
   * The name a parser gives a field: with `_extracted` when a stream label of the entry or a
   * structured metadata label has it, so that neither is lost (Loki's duplicateSuffix; for structured
   * metadata grafana/loki#19991, "parsed labels should not override structured metadata").
   */
  extractedName(name: string): string {
    return Object.hasOwn(this.base, name) || Object.hasOwn(this.metadata, name) ? `${name}_extracted` : name;
  }

  /**
   * Sets a label found by a parser (json, logfmt, regexp, pattern, unpack) unless a parsed label has
   * that name already: the first value wins, both for a key repeated in one line and against an
   * earlier stage (Loki's parser hints: Extracted/RecordExtracted; grafana/loki#19568).
   */
  setExtracted(name: string, value: string): void {
    if (this.parsedCount > 0 && Object.hasOwn(this.parsed, name)) return;
    this.setParsed(name, value);
  }

  /** Sets an extracted label: it leaves whichever other category held the name. */
  setParsed(name: string, value: string): void {
    if (Object.hasOwn(this.metadata, name) || Object.hasOwn(this.stream, name)) {
      this.delFrom('metadata', name);
      this.delFrom('stream', name);
    }
    if (!Object.hasOwn(this.parsed, name)) this.parsedCount++;
    put(this.parsed, name, value);
  }

  /** Loki's Set: parsed > metadata > stream; setting a lower category under a higher one is a no-op. */
  set(category: Category, name: string, value: string): void {
    if (category === 'parsed') {
      this.setParsed(name, value);
      return;
    }
    if (this.parsedCount > 0 && Object.hasOwn(this.parsed, name)) return;
    if (category === 'stream' && Object.hasOwn(this.metadata, name)) return;
    if (category === 'metadata') this.delFrom('stream', name);
    if (category === 'stream') {
      this.ownStream();
      put(this.stream, name, value);
    } else {
      this.ownMetadata();
      put(this.metadata, name, value);
    }
  }

  del(name: string): void {
    this.delFrom('parsed', name);
    this.delFrom('metadata', name);
    this.delFrom('stream', name);
  }

  private delFrom(category: Category, name: string): void {
    switch (category) {
      case 'parsed':
        if (this.parsedCount > 0 && Object.hasOwn(this.parsed, name)) {
          delete this.parsed[name];
          this.parsedCount--;
        }
        return;
      case 'metadata':
        if (Object.hasOwn(this.metadata, name)) {
          this.ownMetadata();
          delete this.metadata[name];
        }
        return;
      case 'stream':
        if (Object.hasOwn(this.stream, name)) {
          this.ownStream();
          delete this.stream[name];
        }
        return;
    }
  }

  private ownStream(): void {
    if (!this.streamOwned) {
      this.stream = copy(this.stream);
      this.streamOwned = true;
    }
  }

  private ownMetadata(): void {
    if (!this.metadataOwned) {
      this.metadata = copy(this.metadata);
      this.metadataOwned = true;
    }
  }

  setErr(err: string, details?: string): void {
    this.err = err;
    if (details !== undefined) this.errDetails = details;
  }

  /** Every label, the error labels included, as templates see them (Loki's lbs.Map()). */
  map(): Labels {
    const m: Labels = {};
    for (const k of Object.keys(this.stream)) put(m, k, this.stream[k] as string);
    for (const k of Object.keys(this.metadata)) put(m, k, this.metadata[k] as string);
    for (const k of Object.keys(this.parsed)) put(m, k, this.parsed[k] as string);
    if (this.err !== '') put(m, ERROR_LABEL, this.err);
    if (this.errDetails !== '') put(m, ERROR_DETAILS_LABEL, this.errDetails);
    return m;
  }

  /** Every label name and value, error labels excluded (for `keep`). */
  names(): string[] {
    return [...Object.keys(this.stream), ...Object.keys(this.metadata), ...Object.keys(this.parsed)];
  }

  output(): LogPipelineOutput {
    let parsed = this.parsed;
    if (this.err !== '' || this.errDetails !== '') {
      if (this.err !== '') {
        this.del(ERROR_LABEL);
        put(parsed, ERROR_LABEL, this.err);
      }
      if (this.errDetails !== '') {
        this.del(ERROR_DETAILS_LABEL);
        parsed = this.parsed;
        put(parsed, ERROR_DETAILS_LABEL, this.errDetails);
      }
    }
    return { line: this.line, stream: this.stream, metadata: this.metadata, parsed };
  }
}

/**
 * Prometheus' otlptranslator NormalizeLabel, which Loki's pipeline applies to every structured
 * metadata name before the stages run (pkg/logql/log/pipeline.go): characters other than Unicode
 * letters and digits become `_`, a leading digit gets `key_` in front, a leading single `_` gets `key`.
 */
export function normalizeMetadataName(name: string): string {
  if (/^(?:[A-Za-z]|__)[A-Za-z0-9_]*$/.test(name) || name.length === 0) return name;
  const out = name.replace(/[^\p{L}\p{Nd}]/gu, '_');
  const c = out.charCodeAt(0);
  if (c >= 48 && c <= 57) return `key_${out}`;
  if (out.startsWith('_') && !out.startsWith('__')) return `key${out}`;
  return out;
}

/** Metadata that Loki's Add would take as it is: normalized names, none a stream label or an error label. */
function plainMetadata(stream: Labels, metadata: Labels): boolean {
  for (const k in metadata) {
    if (Object.hasOwn(stream, k) || k === ERROR_LABEL || k === ERROR_DETAILS_LABEL) return false;
    if (normalizeMetadataName(k) !== k) return false;
  }
  return true;
}

/**
 * Loki's LabelsBuilder.Add of structured metadata: names normalized, a name that is also a stream
 * label takes `_extracted`, `__error__` and `__error_details__` become the error (not labels). Two
 * names that normalize alike: the later one's value.
 */
function addMetadata(
  stream: Labels,
  metadata: Labels,
): { metadata: Labels; err: string; errDetails: string } {
  const out: Labels = {};
  let err = '';
  let errDetails = '';
  for (const k of Object.keys(metadata)) {
    let name = normalizeMetadataName(k);
    if (Object.hasOwn(stream, name)) name = `${name}_extracted`;
    const v = metadata[k] as string;
    if (name === ERROR_LABEL) err = v;
    else if (name === ERROR_DETAILS_LABEL) errDetails = v;
    else put(out, name, v);
  }
  return { metadata: out, err, errDetails };
}

/**
 * All labels of a stored entry that no stage has touched, as Loki's pipeline gives them: the stream
 * labels and the structured metadata as addMetadata takes it, the error labels included. The stream
 * object itself when there is no metadata.
 */
export function entryLabels(stream: Labels, metadata: Labels): Labels {
  let any = false;
  for (const _ in metadata) {
    any = true;
    break;
  }
  if (!any) return stream;
  const out = copy(stream);
  const added = addMetadata(stream, metadata);
  for (const k of Object.keys(added.metadata)) put(out, k, added.metadata[k] as string);
  if (added.err !== '') put(out, ERROR_LABEL, added.err);
  if (added.errDetails !== '') put(out, ERROR_DETAILS_LABEL, added.errDetails);
  return out;
}

function copy(obj: Labels): Labels {
  const out: Labels = {};
  for (const k of Object.keys(obj)) put(out, k, obj[k] as string);
  return out;
}
