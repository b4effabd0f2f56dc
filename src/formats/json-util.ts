/** @module Small JSON helpers the JSON-based formats share. */

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses a line that should hold one JSON object; undefined when it does not. */
export function parseObject(text: string): Obj | undefined {
  const t = text.trim();
  if (t.charCodeAt(0) !== 0x7b /* { */) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A string field, or the JSON text of a number/boolean; undefined when absent, null or empty. */
export function scalar(o: Obj | undefined, key: string): string | undefined {
  const v = o?.[key];
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

export function child(o: Obj | undefined, key: string): Obj | undefined {
  const v = o?.[key];
  return isObj(v) ? v : undefined;
}
