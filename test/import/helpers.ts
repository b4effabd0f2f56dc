/** @module Test helpers: running a parser over lines, fixture paths, exact timestamps. */
import { fileURLToPath } from 'node:url';
import type { FileContext, ParserFactory } from '../../src/formats/types.js';
import type { Attributes, Labels } from '../../src/model/record.js';
import { parseRfc3339Nano } from '../../src/model/time.js';

export interface Got {
  labels: Labels;
  ts: bigint;
  line: string;
  attributes: Attributes | undefined;
}

export interface Parsed {
  entries: Got[];
  malformed: { lineNo: number; reason: string }[];
}

export const NOW = 1_000_000_000_000_000_000n;

export function parse(
  factory: ParserFactory,
  lines: readonly string[],
  ctx: Partial<FileContext> = {},
): Parsed {
  const out: Parsed = { entries: [], malformed: [] };
  const parser = factory(
    { path: 'test.log', missingTimeNs: NOW, ...ctx },
    {
      entry: (labels, ts, line, attributes) => out.entries.push({ labels, ts, line, attributes }),
      malformed: (lineNo, reason) => out.malformed.push({ lineNo, reason }),
    },
  );
  lines.forEach((l, i) => {
    parser.line(l, i + 1);
  });
  parser.end();
  return out;
}

/** Nanoseconds of an RFC 3339 time, computed independently of the code under test where it matters. */
export function ns(iso: string): bigint {
  const v = parseRfc3339Nano(iso);
  if (v === undefined) throw new Error(`bad test time ${iso}`);
  return v;
}

/** `Date.UTC` milliseconds plus a nanosecond fraction: the expected value, spelled out. */
export function utcNs(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  fracNs = 0n,
): bigint {
  return BigInt(Date.UTC(y, mo - 1, d, h, mi, s)) * 1_000_000n + fracNs;
}

export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../test/fixtures/import/${name}`, import.meta.url));
}
