/**
 * @module A JSON body as text for `JSON.parse`, kept one byte per character where that changes
 * nothing that the parse returns. Node decodes a UTF-8 buffer into a two-byte string as soon as it
 * holds one non-ASCII character, and both that decoding and the parse of a two-byte string are
 * slower: an OTLP/JSON body of 850 KB with 30 non-ASCII bytes (one accented line in a few
 * hundred) took 2.2 ms to decode as UTF-8 against 0.8 ms as Latin-1 here, and its parse 15-25% longer.
 *
 * Outside strings, JSON has no place for a non-ASCII character, and inside a string one means what
 * its `\uXXXX` escape means; so each run of non-ASCII bytes is written as the escapes of what it
 * decodes to (decoding is local to the run: an ASCII byte never continues a UTF-8 sequence, so an
 * invalid sequence becomes U+FFFD exactly as in a decoding of the whole body). The one place where
 * that would change the meaning is right after a backslash (`\é` is not JSON, `\\u00e9` is):
 * such a body, and one where non-ASCII text is more than a small part, are decoded as they are.
 *
 * A part of the text kept as it is (Splunk HEC's object events) is taken from the body itself
 * (`JsonText.original`), not from the escapes. Error messages quote the text they parsed, so a
 * body that fails is decoded plainly again (`withJsonText`).
 */
import { Buffer, isAscii } from 'node:buffer';

/** Bytes checked at once by `isAscii` before any byte is looked at one by one. */
const BLOCK = 4096;
/** Escapes may add at most this share of the body (6 characters per UTF-16 unit). */
const MAX_GROWTH = 1 / 16;

const HEX = '0123456789abcdef';

/** A body's JSON text (`jsonText`), and the way back to the body's own text of a part of it. */
export class JsonText {
  constructor(
    readonly text: string,
    /** Whether any escape was written: the text then differs from the plain decoding. */
    readonly escaped: boolean,
    private readonly body?: Buffer,
    /** Per escaped run: where its escapes end in `text`, and the characters added up to there. */
    private readonly runEnds: readonly number[] = [],
    private readonly added: readonly number[] = [],
  ) {}

  /**
   * The body's own text of `text.slice(start, end)` (an object event kept as it was sent), for
   * ends outside strings: never inside an escaped run.
   */
  original(start: number, end: number): string {
    if (!this.escaped) return this.text.slice(start, end);
    return this.body!.toString('utf8', this.byteAt(start), this.byteAt(end));
  }

  /** The body's byte offset of `text`'s position `at` (at no run's inside). */
  private byteAt(at: number): number {
    let lo = 0;
    let hi = this.runEnds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.runEnds[mid]! <= at) lo = mid + 1;
      else hi = mid;
    }
    return at - (lo === 0 ? 0 : this.added[lo - 1]!);
  }
}

/**
 * `body` as text whose JSON parse equals that of its UTF-8 decoding, one byte per character when
 * it can be.
 */
export function jsonText(body: Buffer): JsonText {
  const n = body.length;
  if (isAscii(body)) return new JsonText(body.toString('latin1'), false);
  const plain = () => plainText(body);
  const budget = Math.floor(n * MAX_GROWTH);
  let out: Buffer | undefined;
  let o = 0;
  const runEnds: number[] = [];
  const added: number[] = [];
  /** Bytes before this one are in `out` (or escaped). */
  let from = 0;
  for (let b = 0; b < n; b += BLOCK) {
    const e = Math.min(n, b + BLOCK);
    if (from >= e || isAscii(body.subarray(Math.max(b, from), e))) continue;
    for (let i = Math.max(b, from); i < e; i++) {
      if (body[i]! < 0x80) continue;
      if (i > 0 && body[i - 1] === 0x5c) return plain();
      let j = i + 1;
      while (j < n && body[j]! >= 0x80) j++;
      const s = body.toString('utf8', i, j);
      out ??= Buffer.allocUnsafe(n + budget);
      if (o + (i - from) + s.length * 6 + (n - j) > out.length) return plain();
      o += body.copy(out, o, from, i);
      for (let k = 0; k < s.length; k++) {
        const c = s.charCodeAt(k);
        out[o] = 0x5c; // \
        out[o + 1] = 0x75; // u
        out[o + 2] = HEX.charCodeAt(c >> 12);
        out[o + 3] = HEX.charCodeAt((c >> 8) & 15);
        out[o + 4] = HEX.charCodeAt((c >> 4) & 15);
        out[o + 5] = HEX.charCodeAt(c & 15);
        o += 6;
      }
      runEnds.push(o);
      added.push(o - j);
      from = j;
      i = j - 1;
    }
  }
  o += body.copy(out!, o, from, n);
  return new JsonText(out!.toString('latin1', 0, o), true, body, runEnds, added);
}

/** `body`'s plain UTF-8 decoding, as a JsonText. */
const plainText = (body: Buffer): JsonText => new JsonText(body.toString('utf8'), false);

/**
 * `decode` of `body`'s text (`jsonText`). Where that text was escaped and `decode` throws, `body`
 * is decoded again from its plain UTF-8 decoding, so that an error's message and positions are
 * those of what the sender sent.
 */
export function withJsonText<T>(body: Buffer, decode: (text: string, source: JsonText) => T): T {
  const source = jsonText(body);
  if (!source.escaped) return decode(source.text, source);
  try {
    return decode(source.text, source);
  } catch {
    const plain = plainText(body);
    return decode(plain.text, plain);
  }
}

/** `JSON.parse` of `body` through `withJsonText`. */
export function parseJsonBody(body: Buffer): unknown {
  return withJsonText(body, (text) => JSON.parse(text));
}
