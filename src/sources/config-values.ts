/**
 * @module Reading `kjournal agent`'s configuration values with one-line errors that name the field
 * (`pods.labels: must be true or false, got "yes"`) or the flag (`--journal[0]: ...`). Shared by
 * the agent's own keys (src/agent/config.ts) and by each source's section
 * (src/sources/<kind>/config.ts), so that every error of the agent's configuration is one type.
 */
import { isObj, type Obj } from '../formats/json-util.js';
import { didYouMean } from '../util/did-you-mean.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A value for a message, cut at 60 characters. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}...` : s;
}

/** Checks that `v` is a mapping with only `keys` (`null` and `true`, as in `events:`, read as `{}`). */
export function section(v: unknown, field: string, keys: readonly string[]): Obj {
  if (v === null || v === true) return {};
  if (!isObj(v)) throw new ConfigError(`${field}: must be a mapping, got ${show(v)}`);
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) {
      const near = didYouMean(k, keys);
      throw new ConfigError(
        `${field}.${k}: unknown field (${near ? `did you mean ${JSON.stringify(near)}? ` : ''}known: ${keys.join(', ')})`.replace(
          /^\./,
          '',
        ),
      );
    }
  }
  return v;
}

/** A non-empty string, or undefined when absent. */
export function str(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '')
    throw new ConfigError(`${field}: must be a non-empty string, got ${show(v)}`);
  return v;
}

export function req(v: string | undefined, field: string): string {
  if (v === undefined) throw new ConfigError(`${field}: is required`);
  return v;
}
