/**
 * @module Reading one part of the pipeline configuration (a filter's or an output's options) with
 * errors that say where: a `ConfigError` carries the path of the offending field
 * (`['flows', 0, 'filters', 1, 'parser', 'format']`), and the configuration loader turns that path
 * into the file's line and column. Every filter and output factory reads its options through
 * `Options`, and calls `done()` last so that an unknown (misspelt) key is an error too.
 */
import { isObj } from '../import/formats/json-util.js';

export type ConfigPath = readonly (string | number)[];

export class ConfigError extends Error {
  constructor(
    readonly path: ConfigPath,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `flows[0].filters[1].parser.format` */
export function pathText(path: ConfigPath): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

export class Options {
  private readonly used = new Set<string>();
  readonly value: Record<string, unknown>;

  constructor(
    value: unknown,
    readonly path: ConfigPath,
  ) {
    if (value === undefined || value === null) value = {};
    if (!isObj(value)) throw new ConfigError(path, `must be a mapping, got ${describe(value)}`);
    this.value = value;
  }

  /** The path of one key, for errors a caller raises itself. */
  at(key: string | number): ConfigPath {
    return [...this.path, key];
  }

  error(key: string | number, message: string): ConfigError {
    return new ConfigError(this.at(key), message);
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  raw(key: string): unknown {
    this.used.add(key);
    return this.value[key];
  }

  string(key: string): string;
  string(key: string, dflt: string): string;
  string(key: string, dflt?: string): string {
    const v = this.raw(key);
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      throw this.error(key, 'is required');
    }
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v !== 'string') throw this.error(key, `must be a string, got ${describe(v)}`);
    return v;
  }

  optionalString(key: string): string | undefined {
    if (this.has(key)) return this.string(key);
    this.raw(key);
    return undefined;
  }

  number(key: string, dflt?: number, min = Number.NEGATIVE_INFINITY): number {
    const v = this.raw(key);
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      throw this.error(key, 'is required');
    }
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n))
      throw this.error(key, `must be a number, got ${describe(v)}`);
    if (n < min) throw this.error(key, `must be at least ${min}, got ${n}`);
    return n;
  }

  /** `number`, and a whole one. */
  integer(key: string, dflt?: number, min?: number): number {
    const n = this.number(key, dflt, min);
    if (!Number.isInteger(n)) throw this.error(key, `must be a whole number, got ${n}`);
    return n;
  }

  boolean(key: string, dflt: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') throw this.error(key, `must be true or false, got ${describe(v)}`);
    return v;
  }

  /** A string or a list of strings, as a list. */
  stringList(key: string, dflt: readonly string[] = []): string[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [...dflt];
    if (typeof v === 'string') return [v];
    if (!Array.isArray(v)) throw this.error(key, `must be a string or a list of strings, got ${describe(v)}`);
    return v.map((item, i) => {
      if (typeof item !== 'string' && typeof item !== 'number')
        throw new ConfigError(this.at(key).concat(i), `must be a string, got ${describe(item)}`);
      return String(item);
    });
  }

  /** A mapping of strings to strings (headers, labels). */
  stringMap(key: string): Record<string, string> {
    const v = this.raw(key);
    if (v === undefined || v === null) return {};
    if (!isObj(v)) throw this.error(key, `must be a mapping, got ${describe(v)}`);
    const out: Record<string, string> = {};
    for (const [k, item] of Object.entries(v)) {
      if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean')
        throw new ConfigError(this.at(key).concat(k), `must be a string, got ${describe(item)}`);
      out[k] = String(item);
    }
    return out;
  }

  /** A nested mapping, read with its own `Options`. */
  object(key: string): Options {
    return new Options(this.raw(key), this.at(key));
  }

  /** A list of anything; each item with its path. */
  list(key: string): { value: unknown; path: ConfigPath }[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.error(key, `must be a list, got ${describe(v)}`);
    return v.map((value, i) => ({ value, path: this.at(key).concat(i) }));
  }

  /** One of a fixed set of strings. */
  oneOf<T extends string>(key: string, allowed: readonly T[], dflt?: T): T {
    const v = dflt === undefined ? this.string(key) : this.string(key, dflt);
    if (!(allowed as readonly string[]).includes(v))
      throw this.error(key, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  }

  /** Throws on the first key nobody read: a misspelt option is an error, not silently ignored. */
  done(): void {
    for (const key of Object.keys(this.value)) {
      if (!this.used.has(key)) throw this.error(key, `unknown field ${JSON.stringify(key)}`);
    }
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
