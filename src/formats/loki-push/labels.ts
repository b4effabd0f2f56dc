/**
 * @module Loki's stream label strings (`{app="x", namespace="y"}`), parsed as Loki parses them: Loki
 * calls Prometheus's `ParseMetric`, so this follows Prometheus's lexer (Go escapes in `"..."` and
 * `'...'`, raw backtick strings, `#` comments) and its error texts (`1:5: parse error: ...`). Like
 * Loki's `syntax.ParseLabels` it drops empty values and sorts by name, keeping duplicate names for the
 * validator to reject. Every distinct string is parsed once: a push repeats the same few streams.
 */
import { Buffer } from 'node:buffer';
import { goQuote } from '../../go/quote.js';
import {
  COMMA,
  describe,
  EOF,
  EQL,
  ERROR,
  IDENTIFIER,
  LEFT_BRACE,
  Lexer,
  METRIC_IDENTIFIER,
  RIGHT_BRACE,
  STRING,
  type Token,
  unquote,
} from './label-lexer.js';

export interface LabelPair {
  readonly name: string;
  readonly value: string;
  /** UTF-8 length of the value: Loki's `max_label_value_length` counts bytes. */
  readonly valueBytes: number;
}

export interface ParsedLabels {
  /** As Prometheus prints labels (`{a="1", b="2"}`), the text Loki's messages name a stream by. */
  readonly text: string;
  /** Name to value; frozen because the cache hands the same object to every stream. */
  readonly labels: Readonly<Record<string, string>>;
  /** Sorted by name, duplicates kept (the validator rejects them, as Loki's does). */
  readonly pairs: readonly LabelPair[];
}

/** A labels string Loki would refuse; the message is Prometheus's (`1:5: parse error: ...`). */
export class LabelParseError extends Error {
  override readonly name = 'LabelParseError';
}

/** Prometheus's legacy label name rule, `[a-zA-Z_][a-zA-Z0-9_]*`, which Loki's docs state. */
export function isValidLabelName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alpha = c === 0x5f || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
    if (!alpha && (i === 0 || c < 0x30 || c > 0x39)) return false;
  }
  return true;
}

/** Prometheus's `labels.Labels.String()`. */
export function formatLabels(pairs: readonly { name: string; value: string }[]): string {
  let out = '{';
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    if (i > 0) out += ', ';
    out += isValidLabelName(p.name) ? p.name : goQuote(p.name);
    out += `=${goQuote(p.value)}`;
  }
  return `${out}}`;
}

/**
 * Loki's `LabelSet.String()` for a JSON push's `stream` object: sorted, values quoted, names written
 * as they are. Loki then parses this text, so a bad name fails exactly as it does in Loki.
 */
export function labelSetText(set: Readonly<Record<string, string>>): string {
  const keys = Object.keys(set).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ', ';
    out += `${k}=${goQuote(set[k]!)}`;
  }
  return `${out}}`;
}

/** Prometheus's `ParseErr.Error()`: 1-based line and byte column of `pos`. */
function parseError(input: string, pos: number, message: string): LabelParseError {
  const before = input.slice(0, pos);
  const nl = before.lastIndexOf('\n');
  const line = before.split('\n').length;
  const col = Buffer.byteLength(before) - (nl < 0 ? -1 : Buffer.byteLength(before.slice(0, nl)));
  return new LabelParseError(`${line}:${col}: parse error: ${message}`);
}

function unexpected(input: string, t: Token, context: string, expected: string): LabelParseError {
  if (t.typ === ERROR) return parseError(input, t.pos, t.val);
  let msg = `unexpected ${describe(t)}`;
  if (context) msg += ` in ${context}`;
  if (expected) msg += `, expected ${expected}`;
  return parseError(input, t.pos, msg);
}

interface RawPair {
  name: string;
  value: string;
}

/** Parses without the cache; throws LabelParseError. */
function parseUncached(input: string): ParsedLabels {
  const lex = new Lexer(input);
  const raw: RawPair[] = [];
  let t = lex.next();
  if (t.typ === IDENTIFIER || t.typ === METRIC_IDENTIFIER) {
    raw.push({ name: '__name__', value: t.val });
    t = lex.next();
  }
  if (t.typ === LEFT_BRACE) {
    parseLabelSet(input, lex, raw);
    t = lex.next();
  }
  if (t.typ !== EOF) throw unexpected(input, t, '', '');
  return build(raw);
}

function parseLabelSet(input: string, lex: Lexer, out: RawPair[]): void {
  const set = 'label set';
  let t = lex.next();
  if (t.typ === RIGHT_BRACE) return;
  for (;;) {
    if (t.typ === IDENTIFIER || t.typ === STRING) {
      const nameTok = t;
      t = lex.next();
      if (t.typ === EQL) {
        t = lex.next();
        if (t.typ !== STRING) throw unexpected(input, t, set, 'string');
        const name = nameTok.typ === STRING ? unquote(nameTok.val) : nameTok.val;
        // Prometheus 3 accepts quoted (UTF-8) names; kjournal keeps Loki's documented name rule.
        if (!isValidLabelName(name))
          throw parseError(input, nameTok.pos, `invalid label name ${goQuote(name)}`);
        out.push({ name, value: unquote(t.val) });
        t = lex.next();
      } else if (nameTok.typ === STRING) {
        // `{"metric"}`: a quoted metric name alone.
        out.push({ name: '__name__', value: unquote(nameTok.val) });
      } else {
        throw unexpected(input, t, set, '"="');
      }
    } else {
      throw unexpected(input, t, set, 'identifier or "}"');
    }
    if (t.typ === RIGHT_BRACE) return;
    if (t.typ !== COMMA) throw unexpected(input, t, set, '"," or "}"');
    t = lex.next();
    if (t.typ === RIGHT_BRACE) return; // a trailing comma is allowed
  }
}

/** Drops empty values, sorts by name (stably) and freezes, as Loki's ParseLabels normalises. */
function build(raw: RawPair[]): ParsedLabels {
  const kept = raw.filter((p) => p.value !== '');
  kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const labels: Record<string, string> = {};
  const pairs: LabelPair[] = [];
  for (const p of kept) {
    setOwn(labels, p.name, p.value);
    pairs.push(Object.freeze({ name: p.name, value: p.value, valueBytes: Buffer.byteLength(p.value) }));
  }
  return Object.freeze({
    text: formatLabels(kept),
    labels: Object.freeze(labels),
    pairs: Object.freeze(pairs),
  });
}

/** Assigns an own property even for `__proto__`, which a plain assignment would swallow. */
export function setOwn(target: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Loki's distributor keeps 100,000 parsed label sets (maxLabelCacheSize); so do we. */
const MAX_CACHED = 100_000;
const cache = new Map<string, ParsedLabels | LabelParseError>();

/**
 * Parses a stream's labels string, from the cache when this string was seen before (failures are
 * cached too). Throws LabelParseError with Prometheus's message.
 */
export function parseLabels(text: string): ParsedLabels {
  let hit = cache.get(text);
  if (hit === undefined) {
    try {
      hit = parseUncached(text);
    } catch (err) {
      if (!(err instanceof LabelParseError)) throw err;
      hit = err;
    }
    // Clearing everything is crude but bounded and rare: live streams refill it at once.
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(text, hit);
    // Validation looks labels up again by the printed form.
    if (!(hit instanceof LabelParseError) && hit.text !== text) cache.set(hit.text, hit);
  }
  if (hit instanceof LabelParseError) throw hit;
  return hit;
}
