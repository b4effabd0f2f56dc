/**
 * @module How Loki's pattern miner cuts a line into tokens and prints a template back, one tokenizer
 * per log format (Loki v3.4 pkg/pattern/drain/line_tokenizer.go and metrics.go): the format of a
 * stream is guessed from its first line (`detectLogFormat`); logfmt lines are split into keys and
 * values, JSON lines are tokenized on their message field, anything else on spaces and punctuation.
 * A template is printed with runs of the `<_>` placeholder collapsed into one.
 */
import { Buffer } from 'node:buffer';
import RE2 from 're2';
import { LogfmtDecoder } from '../../logql/stages/logfmt.js';

/** Loki's `ParamString`: the placeholder of a variable token. */
export const PLACEHOLDER = '<_>';

export type LogFormat = 'logfmt' | 'json' | 'unknown';

/**
 * Loki's `logfmtRegex`, run with RE2 as Go runs it: the pattern nests lazy repetitions, which a
 * backtracking engine can take exponential time over on a long line that almost matches.
 */
const LOGFMT_LINE = new RE2('^(\\w+?=([^"]\\S*?|".+?") )*?(\\w+?=([^"]\\S*?|".+?"))+$');

/** Loki's DetectLogFormat: JSON when braced, logfmt when every word is a `key=value`. */
export function detectLogFormat(line: string): LogFormat {
  if (line.length < 2) return 'unknown';
  if (line.startsWith('{') && line.endsWith('}')) return 'json';
  return LOGFMT_LINE.test(line) ? 'logfmt' : 'unknown';
}

/** A line cut into tokens; `spaces` (punctuation tokenizer only) are the indexes followed by a space. */
export interface Tokens {
  readonly tokens: string[];
  readonly spaces?: readonly number[];
}

export interface LineTokenizer {
  /** The tokens of a line, or undefined when the line is not mined (too long, not parseable). */
  tokenize(line: string): Tokens | undefined;
  /** The template's text (before placeholder runs are collapsed); '' when it cannot be printed. */
  join(tokens: readonly string[], spaces: readonly number[] | undefined): string;
}

/** Loki's MaxAllowedLineLength: longer lines (in bytes) are not mined. */
export const MAX_LINE_BYTES = 3000;

function tooLong(line: string, max: number): boolean {
  // UTF-8 takes at least as many bytes as UTF-16 code units: count bytes only when it can matter.
  if (line.length > max) return true;
  return line.length * 3 > max && Buffer.byteLength(line) > max;
}

const LETTER_OR_NUMBER = /^[\p{L}\p{N}]$/u;
const PUNCTUATION = /^\p{P}$/u;

/** Per ASCII code: 0 part of a token, 1 a delimiter kept as a token, 2 a space. */
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  // Loki's excludeDelimiters (`_ - . : /`) stay inside tokens; `=` is an includeDelimiter.
  if (LETTER_OR_NUMBER.test(ch) || '_-.:/'.includes(ch)) ASCII_CLASS[c] = 0;
  else if (c === 32) ASCII_CLASS[c] = 2;
  else if (c === 61 || PUNCTUATION.test(ch)) ASCII_CLASS[c] = 1;
}

/** Loki caps a line at 127 tokens; the rest of the line becomes the last token. */
const MAX_PUNCTUATION_TOKENS = 127;

/**
 * Loki's punctuationTokenizer: a token ends at a space (dropped, remembered as `spaces`), at `=`
 * and at Unicode punctuation other than `_ - . : /` (each kept as a token of its own). Symbols
 * (`+ < > | $ ...`) and other white space stay inside tokens, as Go's unicode.IsPunct has it.
 *
 * One difference: Go slices a non-ASCII punctuation character's first byte as its token (and the
 * rest into the next); here the character is one token. Joined back, both print the same line.
 */
export class PunctuationTokenizer implements LineTokenizer {
  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  tokenize(line: string): Tokens | undefined {
    if (tooLong(line, this.maxLineBytes)) return undefined;
    const tokens: string[] = [];
    const spaces: number[] = [];
    let start = 0;
    let i = 0;
    while (i < line.length) {
      if (tokens.length >= MAX_PUNCTUATION_TOKENS) break;
      const cp = line.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      let cls: number;
      if (cp < 128) cls = ASCII_CLASS[cp]!;
      else {
        const ch = line.slice(i, i + width);
        cls = LETTER_OR_NUMBER.test(ch) ? 0 : PUNCTUATION.test(ch) ? 1 : 0;
      }
      if (cls !== 0) {
        if (i > start) tokens.push(line.slice(start, i));
        // Loki records the index of the token before the space: -1 for a leading space (see join).
        if (cls === 2) spaces.push(tokens.length - 1);
        else tokens.push(line.slice(i, i + width));
        start = i + width;
      }
      i += width;
    }
    if (start < line.length) tokens.push(line.slice(start));
    return { tokens, spaces };
  }

  /**
   * Tokens with their spaces. As in Loki, a line that starts with a space records the index -1,
   * which no token has, and the walk over `spaces` stops there: such a template prints without
   * any space at all (surprising, and Loki's behaviour: pkg/pattern/drain/line_tokenizer.go Join).
   */
  join(tokens: readonly string[], spaces: readonly number[] | undefined): string {
    const after = spaces ?? [];
    let out = '';
    let s = 0;
    for (let i = 0; i < tokens.length; i++) {
      out += tokens[i];
      while (s < after.length && after[s] === i) {
        out += ' ';
        s++;
      }
    }
    return out;
  }
}

/** Loki's isVariableField: keys whose values are always variables (times, trace ids). */
function isVariableField(key: string): boolean {
  if (key === 't') return true;
  const k = key.toLowerCase();
  return k === 'ts' || k === 'traceid' || k === 'time' || k === 'timestamp';
}

/** go-logfmt's needsQuotedValueRune (and the runes it drops from a key). */
function needsQuote(cp: number): boolean {
  return cp <= 32 || cp === 61 || cp === 34 || cp === 0xfffd;
}

const HEX = '0123456789abcdef';

/** go-logfmt's writeQuotedBytes: JSON-like escapes, `\u00XX` for other control bytes. */
function quoteLogfmt(value: string): string {
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (cp === 92 || cp === 34) out += `\\${ch}`;
    else if (cp === 10) out += '\\n';
    else if (cp === 13) out += '\\r';
    else if (cp === 9) out += '\\t';
    else if (cp < 0x20) out += `\\u00${HEX[cp >> 4]}${HEX[cp & 15]}`;
    else if (cp === 0xfffd || (cp >= 0xd800 && cp <= 0xdfff)) out += '\\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

function logfmtValue(value: string): string {
  for (const ch of value) if (needsQuote(ch.codePointAt(0)!)) return quoteLogfmt(value);
  return value;
}

/** A key as go-logfmt writes it: invalid runes dropped; undefined (an error) when none is left. */
function logfmtKey(key: string): string | undefined {
  let out = '';
  for (const ch of key) if (!needsQuote(ch.codePointAt(0)!)) out += ch;
  return out === '' ? undefined : out;
}

/**
 * Loki's logfmtTokenizer: keys and values alternate (Loki's logfmt decoder), the value of a
 * variable field is the placeholder; a line the decoder refuses is not mined. Templates print
 * with go-logfmt's encoder (values quoted when they hold spaces, `=` or `"`).
 */
export class LogfmtTokenizer implements LineTokenizer {
  private readonly dec = new LogfmtDecoder();
  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  tokenize(line: string): Tokens | undefined {
    if (tooLong(line, this.maxLineBytes)) return undefined;
    const dec = this.dec;
    dec.reset(line);
    const tokens: string[] = [];
    while (!dec.eol() && dec.scan()) {
      const key = dec.key ?? '';
      tokens.push(key, isVariableField(key) ? PLACEHOLDER : (dec.value ?? ''));
    }
    if (dec.err !== undefined) return undefined;
    return { tokens };
  }

  join(tokens: readonly string[]): string {
    const parts: string[] = [];
    for (let i = 0; i < tokens.length; i += 2) {
      const key = logfmtKey(tokens[i]!);
      if (key === undefined) return '';
      parts.push(`${key}=${logfmtValue(tokens[i + 1] ?? '')}`);
    }
    return parts.join(' ');
  }
}

/** Loki's default `pattern_ingester_tokenizable_json_fields`: where a JSON line keeps its message. */
export const DEFAULT_JSON_FIELDS: readonly string[] = ['log', 'message', 'msg', 'msg_', '_msg', 'content'];

function skipSpace(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  return i;
}

/** s[i] is `"`: the index after the closing quote, or -1. */
function stringEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 92) j++;
    else if (c === 34) return j + 1;
  }
  return -1;
}

/** The index after the value at i (string, object, array, literal), or -1 when it does not end. */
function valueEnd(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 34) return stringEnd(s, i);
  if (c === 123 || c === 91) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === 34) {
        j = stringEnd(s, j) - 1;
        if (j < 0) return -1;
      } else if (d === 123 || d === 91) depth++;
      else if (d === 125 || d === 93) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < s.length && !' \t\r\n,}]'.includes(s[j]!)) j++;
  return j > i ? j : -1;
}

/**
 * The raw text (escapes kept, as buger/jsonparser's Get returns it) of the first of `fields` that
 * is a top-level string of the object `line`; undefined when none is. A malformed rest of the
 * object does not undo what was found before it, as with jsonparser.Get.
 */
export function jsonMessage(line: string, fields: readonly string[]): string | undefined {
  const found = new Map<string, string>();
  let i = skipSpace(line, 0);
  if (line.charCodeAt(i) === 123) {
    i = skipSpace(line, i + 1);
    while (line.charCodeAt(i) === 34) {
      const ke = stringEnd(line, i);
      if (ke < 0) break;
      const key = line.slice(i + 1, ke - 1);
      i = skipSpace(line, ke);
      if (line.charCodeAt(i) !== 58) break;
      i = skipSpace(line, i + 1);
      const ve = valueEnd(line, i);
      if (ve < 0) break;
      if (line.charCodeAt(i) === 34 && !found.has(key) && fields.includes(key)) {
        found.set(key, line.slice(i + 1, ve - 1));
        if (key === fields[0]) break;
      }
      i = skipSpace(line, ve);
      if (line.charCodeAt(i) !== 44) break;
      i = skipSpace(line, i + 1);
    }
  }
  for (const f of fields) {
    const v = found.get(f);
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * Loki's jsonTokenizer: the message field of the line, tokenized on punctuation; lines without
 * one are not mined. A template prints between two placeholders (the rest of the object).
 */
export class JsonTokenizer implements LineTokenizer {
  private readonly punctuation: PunctuationTokenizer;
  constructor(
    private readonly fields: readonly string[] = DEFAULT_JSON_FIELDS,
    maxLineBytes = MAX_LINE_BYTES,
  ) {
    this.punctuation = new PunctuationTokenizer(maxLineBytes);
  }

  tokenize(line: string): Tokens | undefined {
    const message = jsonMessage(line, this.fields);
    if (message === undefined) return undefined;
    return this.punctuation.tokenize(message);
  }

  join(tokens: readonly string[], spaces: readonly number[] | undefined): string {
    return `${PLACEHOLDER}${this.punctuation.join(tokens, spaces)}${PLACEHOLDER}`;
  }
}

export function tokenizerFor(format: LogFormat): LineTokenizer {
  switch (format) {
    case 'json':
      return new JsonTokenizer();
    case 'logfmt':
      return new LogfmtTokenizer();
    case 'unknown':
      return new PunctuationTokenizer();
  }
}

/** Loki's deduplicatePlaceholders: a run of placeholders prints as one. */
export function collapsePlaceholders(text: string): string {
  return text.includes('<_><_>') ? text.replace(/(?:<_>){2,}/g, PLACEHOLDER) : text;
}
