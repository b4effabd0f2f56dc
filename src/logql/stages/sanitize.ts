/**
 * @module Extracted label names as Loki makes them: characters outside `[a-zA-Z0-9_]` become `_`, a
 * leading digit gets a `_` in front, surrounding spaces go.
 */

function okCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57);
}

/** Loki's sanitizeLabelKey(key, true). */
export function sanitizeLabelKey(key: string): string {
  if (key.length === 0) return key;
  let clean = true;
  for (let i = 0; i < key.length; i++) {
    if (!okCode(key.charCodeAt(i))) {
      clean = false;
      break;
    }
  }
  const c0 = key.charCodeAt(0);
  if (clean) return c0 >= 48 && c0 <= 57 ? `_${key}` : key;
  const k = trimGoSpace(key);
  if (k.length === 0) return k;
  let out = '';
  const d = k.charCodeAt(0);
  if (d >= 48 && d <= 57) out = '_';
  // one `_` per code point, as Go's strings.Map over runes
  for (const ch of k) out += ch.length === 1 && okCode(ch.charCodeAt(0)) ? ch : '_';
  return out;
}

/** Loki's appendSanitized: a JSON key appended to a prefix (`_` before a leading digit only at the start). */
export function appendSanitized(prefix: string, key: string): string {
  const k = trimGoSpace(key);
  if (k.length === 0) return prefix;
  let out = prefix;
  const d = k.charCodeAt(0);
  if (prefix.length === 0 && d >= 48 && d <= 57) out += '_';
  let clean = true;
  for (let i = 0; i < k.length; i++) {
    if (!okCode(k.charCodeAt(i))) {
      clean = false;
      break;
    }
  }
  if (clean) return out + k;
  for (const ch of k) out += ch.length === 1 && okCode(ch.charCodeAt(0)) ? ch : '_';
  return out;
}

/** strings.TrimSpace: Unicode white space. */
export function trimGoSpace(s: string): string {
  return s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, '');
}

/** A valid Prometheus label name. */
export function isValidLabelName(name: string): boolean {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name);
}
