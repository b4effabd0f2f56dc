/**
 * @module Go's time.Time for templates: an instant in nanoseconds with a zone, formatted and parsed
 * with Go layouts (`2006-01-02T15:04:05.999999999Z07:00`). The server's Local zone is UTC.
 */

export class GoTime {
  constructor(
    /** Nanoseconds since the Unix epoch. */
    readonly ns: bigint,
    /** Offset east of UTC, seconds. */
    readonly offset: number = 0,
    readonly zone: string = 'UTC',
  ) {}
  unixSeconds(): bigint {
    return floorDiv(this.ns, 1_000_000_000n);
  }
}

export const ZERO_TIME = new GoTime(-62135596800n * 1_000_000_000n);

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

type Tok =
  | { k: 'lit'; s: string }
  | { k: 'f'; s: string; digits: number; trim: boolean }
  | { k: 'std'; s: string };

const STD = [
  'January',
  'Monday',
  '2006',
  '-07:00:00',
  '-0700',
  '-07:00',
  'Z07:00:00',
  'Z0700',
  'Z07:00',
  '-07',
  'Z07',
  '002',
  '__2',
  'Jan',
  'Mon',
  'MST',
  '01',
  '02',
  '_2',
  '15',
  '03',
  '04',
  '05',
  '06',
  'PM',
  'pm',
  '1',
  '2',
  '3',
  '4',
  '5',
];

const cache = new Map<string, Tok[]>();

function tokenize(layout: string): Tok[] {
  let toks = cache.get(layout);
  if (toks) return toks;
  toks = [];
  let lit = '';
  let i = 0;
  outer: while (i < layout.length) {
    const c = layout[i] as string;
    if ((c === '.' || c === ',') && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
      const d = layout[i + 1] as string;
      let j = i + 1;
      while (layout[j] === d) j++;
      // only when not followed by a digit
      if (!/[0-9]/.test(layout[j] ?? '')) {
        if (lit) toks.push({ k: 'lit', s: lit });
        lit = '';
        toks.push({ k: 'f', s: c, digits: j - i - 1, trim: d === '9' });
        i = j;
        continue;
      }
    }
    for (const s of STD) {
      if (layout.startsWith(s, i)) {
        // "Jan" inside "January" handled by order; "Mon" not followed by lower-case letter
        if ((s === 'Jan' || s === 'Mon') && /[a-z]/.test(layout[i + s.length] ?? '')) continue;
        if (lit) toks.push({ k: 'lit', s: lit });
        lit = '';
        toks.push({ k: 'std', s });
        i += s.length;
        continue outer;
      }
    }
    lit += c;
    i++;
  }
  if (lit) toks.push({ k: 'lit', s: lit });
  if (cache.size > 100) cache.clear();
  cache.set(layout, toks);
  return toks;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad = (n: number, w: number, ch = '0') => String(n).padStart(w, ch);

function fields(t: GoTime) {
  const local = t.ns + BigInt(t.offset) * 1_000_000_000n;
  const sec = floorDiv(local, 1_000_000_000n);
  const nanos = Number(local - sec * 1_000_000_000n);
  const ms = Number(sec) * 1000;
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const start = Date.UTC(year, 0, 1);
  const yday = Math.floor((Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - start) / 86400000) + 1;
  return {
    year,
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    min: d.getUTCMinutes(),
    sec: d.getUTCSeconds(),
    nanos,
    wday: d.getUTCDay(),
    yday,
  };
}

function zoneText(offset: number, kind: string): string {
  if (kind.startsWith('Z') && offset === 0) return 'Z';
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  const h = pad(Math.floor(a / 3600), 2);
  const m = pad(Math.floor((a % 3600) / 60), 2);
  const s = pad(a % 60, 2);
  const k = kind.replace(/^Z/, '-');
  switch (k) {
    case '-07':
      return sign + h;
    case '-0700':
      return sign + h + m;
    case '-07:00':
      return `${sign}${h}:${m}`;
    default:
      return `${sign}${h}:${m}:${s}`;
  }
}

export function formatGoTime(t: GoTime, layout: string): string {
  const f = fields(t);
  let out = '';
  for (const tok of tokenize(layout)) {
    if (tok.k === 'lit') {
      out += tok.s;
      continue;
    }
    if (tok.k === 'f') {
      let digits = pad(f.nanos, 9).slice(0, tok.digits);
      if (tok.trim) {
        digits = digits.replace(/0+$/, '');
        if (digits) out += tok.s + digits;
      } else {
        out += tok.s + digits;
      }
      continue;
    }
    switch (tok.s) {
      case '2006':
        out += f.year < 0 ? `-${pad(-f.year, 4)}` : pad(f.year, 4);
        break;
      case '06':
        out += pad(((f.year % 100) + 100) % 100, 2);
        break;
      case 'January':
        out += MONTHS[f.month - 1];
        break;
      case 'Jan':
        out += (MONTHS[f.month - 1] as string).slice(0, 3);
        break;
      case '01':
        out += pad(f.month, 2);
        break;
      case '1':
        out += f.month;
        break;
      case 'Monday':
        out += DAYS[f.wday];
        break;
      case 'Mon':
        out += (DAYS[f.wday] as string).slice(0, 3);
        break;
      case '02':
        out += pad(f.day, 2);
        break;
      case '_2':
        out += pad(f.day, 2, ' ');
        break;
      case '2':
        out += f.day;
        break;
      case '002':
        out += pad(f.yday, 3);
        break;
      case '__2':
        out += pad(f.yday, 3, ' ');
        break;
      case '15':
        out += pad(f.hour, 2);
        break;
      case '03':
        out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12, 2);
        break;
      case '3':
        out += f.hour % 12 === 0 ? 12 : f.hour % 12;
        break;
      case '04':
        out += pad(f.min, 2);
        break;
      case '4':
        out += f.min;
        break;
      case '05':
        out += pad(f.sec, 2);
        break;
      case '5':
        out += f.sec;
        break;
      case 'PM':
        out += f.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += f.hour >= 12 ? 'pm' : 'am';
        break;
      case 'MST':
        out += t.zone || zoneText(t.offset, '-0700');
        break;
      default:
        out += zoneText(t.offset, tok.s);
    }
  }
  return out;
}

/** The offset of an IANA zone at an instant, seconds; undefined for an unknown zone. */
export function zoneOffset(zone: string, ms: number): { offset: number; abbr: string } | undefined {
  if (zone === 'UTC' || zone === '' || zone === 'Local') return { offset: 0, abbr: 'UTC' };
  try {
    const dtf = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      timeZoneName: 'short',
    });
    const parts = dtf.formatToParts(new Date(ms));
    const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
    const asUtc = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    const abbr = parts.find((p) => p.type === 'timeZoneName')?.value ?? zone;
    return { offset: Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 1000), abbr };
  } catch {
    return undefined;
  }
}

/** time.ParseInLocation; undefined when the value does not fit the layout. */
export function parseGoTime(layout: string, value: string, zone: string): GoTime | undefined {
  let year = 1;
  let month = 1;
  let day = 1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nanos = 0;
  let pm: boolean | undefined;
  let offset: number | undefined;
  let zoneName: string | undefined;
  let i = 0;
  const num = (min: number, max: number): number | undefined => {
    const m = new RegExp(`^\\d{${min},${max}}`).exec(value.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };
  for (const tok of tokenize(layout)) {
    if (tok.k === 'lit') {
      if (!value.startsWith(tok.s, i)) return undefined;
      i += tok.s.length;
      continue;
    }
    if (tok.k === 'f') {
      if (value[i] !== '.' && value[i] !== ',') {
        if (tok.trim) continue;
        return undefined;
      }
      i++;
      const m = /^\d+/.exec(value.slice(i));
      if (!m || (!tok.trim && m[0].length !== tok.digits)) return undefined;
      nanos = Number(m[0].slice(0, 9).padEnd(9, '0'));
      i += m[0].length;
      continue;
    }
    let v: number | undefined;
    switch (tok.s) {
      case '2006':
        v = num(4, 4);
        if (v === undefined) return undefined;
        year = v;
        break;
      case '06':
        v = num(2, 2);
        if (v === undefined) return undefined;
        year = v >= 69 ? 1900 + v : 2000 + v;
        break;
      case 'January':
      case 'Jan': {
        const idx = MONTHS.findIndex((m) =>
          value
            .slice(i)
            .toLowerCase()
            .startsWith((tok.s === 'Jan' ? m.slice(0, 3) : m).toLowerCase()),
        );
        if (idx === -1) return undefined;
        i += tok.s === 'Jan' ? 3 : (MONTHS[idx] as string).length;
        month = idx + 1;
        break;
      }
      case 'Monday':
      case 'Mon': {
        const idx = DAYS.findIndex((d) =>
          value
            .slice(i)
            .toLowerCase()
            .startsWith((tok.s === 'Mon' ? d.slice(0, 3) : d).toLowerCase()),
        );
        if (idx === -1) return undefined;
        i += tok.s === 'Mon' ? 3 : (DAYS[idx] as string).length;
        break;
      }
      case '01':
      case '1':
        v = tok.s === '01' ? num(2, 2) : num(1, 2);
        if (v === undefined || v < 1 || v > 12) return undefined;
        month = v;
        break;
      case '02':
      case '2':
      case '_2':
        if (tok.s === '_2' && value[i] === ' ') i++;
        v = tok.s === '02' ? num(2, 2) : num(1, 2);
        if (v === undefined || v < 1 || v > 31) return undefined;
        day = v;
        break;
      case '002':
      case '__2':
        v = num(1, 3);
        if (v === undefined) return undefined;
        break;
      case '15':
        v = num(1, 2);
        if (v === undefined || v > 23) return undefined;
        hour = v;
        break;
      case '03':
      case '3':
        v = tok.s === '03' ? num(2, 2) : num(1, 2);
        if (v === undefined || v > 12) return undefined;
        hour = v;
        break;
      case '04':
      case '4':
        v = tok.s === '04' ? num(2, 2) : num(1, 2);
        if (v === undefined || v > 59) return undefined;
        min = v;
        break;
      case '05':
      case '5':
        v = tok.s === '05' ? num(2, 2) : num(1, 2);
        if (v === undefined || v > 59) return undefined;
        sec = v;
        // Go accepts a fraction after seconds even when the layout has none
        if (value[i] === '.' && /^\.\d/.test(value.slice(i))) {
          const m = /^\.(\d+)/.exec(value.slice(i)) as RegExpExecArray;
          const next = tokenize(layout)[tokenize(layout).indexOf(tok) + 1];
          if (next?.k !== 'f') {
            nanos = Number((m[1] as string).slice(0, 9).padEnd(9, '0'));
            i += m[0].length;
          }
        }
        break;
      case 'PM':
      case 'pm': {
        const s = value.slice(i, i + 2).toUpperCase();
        if (s !== 'AM' && s !== 'PM') return undefined;
        pm = s === 'PM';
        i += 2;
        break;
      }
      case 'MST': {
        const m = /^[A-Z]{3,5}|^[+-]\d{2}/.exec(value.slice(i));
        if (!m) return undefined;
        zoneName = m[0];
        if (zoneName === 'UTC' || zoneName === 'GMT') offset = 0;
        i += m[0].length;
        break;
      }
      default: {
        if (tok.s.startsWith('Z') && value[i] === 'Z') {
          i++;
          offset = 0;
          zoneName = 'UTC';
          break;
        }
        const m = /^([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?/.exec(value.slice(i));
        if (!m) return undefined;
        i += m[0].length;
        offset = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0));
      }
    }
  }
  if (i !== value.length) return undefined;
  if (pm !== undefined) {
    if (pm && hour < 12) hour += 12;
    if (!pm && hour === 12) hour = 0;
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, 0);
  if (d.getUTCDate() !== day) return undefined;
  const wallMs = d.getTime();
  const wallNs = BigInt(wallMs) * 1_000_000n + BigInt(nanos);
  if (offset !== undefined) {
    return new GoTime(
      wallNs - BigInt(offset) * 1_000_000_000n,
      offset,
      zoneName ?? (offset === 0 ? 'UTC' : ''),
    );
  }
  const z = zoneOffset(zone, wallMs) ?? { offset: 0, abbr: 'UTC' };
  const z2 = zoneOffset(zone, wallMs - z.offset * 1000) ?? z;
  return new GoTime(wallNs - BigInt(z2.offset) * 1_000_000_000n, z2.offset, z2.abbr);
}

export function timeInZone(ns: bigint, zone: string): GoTime {
  const z = zoneOffset(zone, Number(ns / 1_000_000n)) ?? { offset: 0, abbr: 'UTC' };
  return new GoTime(ns, z.offset, z.abbr);
}
