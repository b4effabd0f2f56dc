/**
 * @module Safe names: attribute and label names contain only [A-Za-z0-9_:]; anything else becomes `_`.
 * This is korrel8r's `logSafeLabel` rule, which also keeps names legal as Loki labels.
 */

const UNSAFE = /[^A-Za-z0-9_:]/g;

export function safeName(name: string): string {
  const safe = name.replace(UNSAFE, '_');
  // A Loki label may not start with a digit.
  return /^[0-9]/.test(safe) ? `_${safe}` : safe;
}

/** Applies safeName to every key; later keys win on a clash, as korrel8r's map rewrite does. */
export function safeNames(map: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) out[safeName(k)] = v;
  return out;
}

/**
 * Flattens a JSON value into string attributes: nested object paths are joined with `_`,
 * arrays keep their index as a path element, scalars become their JSON text (strings unquoted).
 */
export function flattenJson(
  value: unknown,
  prefix = '',
  out: Record<string, string> = {},
): Record<string, string> {
  if (value === null || value === undefined) {
    if (prefix) out[safeName(prefix)] = '';
    return out;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) flattenJson(v, prefix ? `${prefix}_${i}` : String(i), out);
    return out;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      flattenJson(v, prefix ? `${prefix}_${k}` : k, out);
    }
    return out;
  }
  if (prefix) out[safeName(prefix)] = typeof value === 'string' ? value : String(value);
  return out;
}

/** Parses `body` as a JSON object and flattens it; undefined when the body is not a JSON object. */
export function flattenJsonBody(body: string): Record<string, string> | undefined {
  const first = body.charCodeAt(0);
  if (first !== 0x7b /* { */) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    return flattenJson(parsed);
  } catch {
    return undefined;
  }
}
