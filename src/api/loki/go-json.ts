/**
 * @module A JSON response written as Go writes it where Loki uses encoding/json's Encoder or
 * jsoniter's HTML-escaping string writer: `<`, `>`, `&`, U+2028 and U+2029 inside strings are
 * `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029` (the same strings once parsed), and the body ends
 * with a newline.
 */
import type { Reply } from '../http/router.js';

const ESCAPED = /[<>&\u2028\u2029]/g;

export function goJson(status: number, value: unknown): Reply {
  // Outside strings JSON.stringify writes none of these characters, so replacing everywhere is exact.
  const body = JSON.stringify(value).replace(
    ESCAPED,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: `${body}\n` };
}
