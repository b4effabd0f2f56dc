/**
 * @module go-humanize's ParseBytes, as Loki calls it: LogQL BYTES tokens, `| bytes` label filters,
 * the `bytes()` unwrap and the `bytes` template function. `42`, `1.5 KB` (1,500), `1KiB` (1,024),
 * `1,000 B`, case-insensitive; whole bytes. The number goes through strconv.ParseFloat (float.ts),
 * so its errors are Go's.
 */
import { goParseFloat } from './float.js';

export type ParsedBytes =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly error: string };

/** go-humanize's bytesSizeTable. */
const BYTE_SIZES: Readonly<Record<string, number>> = {
  b: 1,
  kib: 1024,
  kb: 1000,
  mib: 1024 ** 2,
  mb: 1e6,
  gib: 1024 ** 3,
  gb: 1e9,
  tib: 1024 ** 4,
  tb: 1e12,
  pib: 1024 ** 5,
  pb: 1e15,
  eib: 1024 ** 6,
  eb: 1e18,
  '': 1,
  ki: 1024,
  k: 1000,
  mi: 1024 ** 2,
  m: 1e6,
  gi: 1024 ** 3,
  g: 1e9,
  ti: 1024 ** 4,
  t: 1e12,
  pi: 1024 ** 5,
  p: 1e15,
  ei: 1024 ** 6,
  e: 1e18,
};

/** humanize.ParseBytes: the leading digits (unicode.IsDigit), `.` and `,`, then a size name. */
export function parseHumanBytes(s: string): ParsedBytes {
  let last = 0;
  let hasComma = false;
  for (const ch of s) {
    if (!(/\p{Nd}/u.test(ch) || ch === '.' || ch === ',')) break;
    if (ch === ',') hasComma = true;
    last += ch.length;
  }
  let num = s.slice(0, last);
  if (hasComma) num = num.replaceAll(',', '');
  const f = goParseFloat(num);
  if (!f.ok) return { ok: false, error: f.error };
  const extra = s.slice(last).trim().toLowerCase();
  const m = Object.hasOwn(BYTE_SIZES, extra) ? BYTE_SIZES[extra] : undefined;
  if (m === undefined) return { ok: false, error: `unhandled size name: ${extra}` };
  const v = f.value * m;
  if (v >= 2 ** 64) return { ok: false, error: `too large: ${s}` };
  return { ok: true, value: Math.trunc(v) };
}
