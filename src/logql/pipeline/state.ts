/**
 * @module The state of one entry while stages run: Loki's LabelsBuilder. Labels live in exactly one
 * category; stream and metadata objects are the caller's until a stage changes them (copy on write);
 * the error and its details are kept apart, as Loki keeps them, and only become labels at the end.
 */
import type { Labels } from '../../model/record.js';
import { ERROR_DETAILS_LABEL, ERROR_LABEL } from './errors.js';
import type { PipelineOutput } from './types.js';

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
    // Loki adds structured metadata with Add: a name that is also a stream label takes `_extracted`
    for (const k in metadata) {
      if (Object.hasOwn(stream, k) || k === ERROR_LABEL || k === ERROR_DETAILS_LABEL) {
        this.metadata = renameClashes(stream, metadata);
        break;
      }
    }
    this.parsed = {};
    this.parsedCount = 0;
    this.streamOwned = false;
    this.metadataOwned = false;
    this.err = '';
    this.errDetails = '';
    if (this.metadata !== metadata) {
      const e = own(metadata, ERROR_LABEL);
      if (e !== undefined && !Object.hasOwn(stream, ERROR_LABEL)) this.err = e;
      const d = own(metadata, ERROR_DETAILS_LABEL);
      if (d !== undefined && !Object.hasOwn(stream, ERROR_DETAILS_LABEL)) this.errDetails = d;
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

  output(): PipelineOutput {
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
 * All labels of a stored entry that no stage has touched, as Loki's pipeline gives them: the stream
 * labels, then its structured metadata, a name that is also a stream label taking `_extracted`
 * (LabelsBuilder.Add), and `__error__`/`__error_details__` metadata as the error labels. The stream
 * object itself when there is no metadata.
 */
export function entryLabels(stream: Labels, metadata: Labels): Labels {
  let out: Labels | undefined;
  for (const k in metadata) {
    if (!Object.hasOwn(metadata, k)) continue;
    out ??= copy(stream);
    const v = metadata[k] as string;
    if (k === ERROR_LABEL || k === ERROR_DETAILS_LABEL) {
      if (!Object.hasOwn(stream, k)) put(out, k, v);
      else put(out, `${k}_extracted`, v);
      continue;
    }
    put(out, Object.hasOwn(stream, k) ? `${k}_extracted` : k, v);
  }
  return out ?? stream;
}

function renameClashes(stream: Labels, metadata: Labels): Labels {
  const out: Labels = {};
  for (const k of Object.keys(metadata)) {
    const name = Object.hasOwn(stream, k) ? `${k}_extracted` : k;
    if (name === ERROR_LABEL || name === ERROR_DETAILS_LABEL) continue;
    put(out, name, metadata[k] as string);
  }
  return out;
}

function copy(obj: Labels): Labels {
  const out: Labels = {};
  for (const k of Object.keys(obj)) put(out, k, obj[k] as string);
  return out;
}
