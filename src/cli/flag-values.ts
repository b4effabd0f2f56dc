/**
 * @module The value rules of the CLI's flags: each parser takes the flag's text and returns its
 * value, or throws a `ValueError` whose message is the reason alone (`must be a duration such as
 * 30d or 12h, got "soon"`). The caller names what was wrong: `--query-timeout must be ...` on the
 * command line, `serve.yaml:4:16: queryTimeout: must be ...` in a configuration file; so a flag and
 * its key in the file are judged by the same function and cannot disagree.
 */
import { parseMinFree } from '../disk/disk-space.js';
import { parseDuration } from '../go/duration.js';
import { sizeOrZero } from '../util/size.js';

/** A value a flag's rule refuses; the message is the reason, without the flag's name. */
export class ValueError extends Error {
  override readonly name = 'ValueError';
}

/** A flag's rule: its text to its value. */
export type ValueRule<T> = (text: string) => T;

/** `--max-line-size` of the attribute `maxLineSize` (commander's camelCase of the flag). */
export function flagOf(attribute: string): string {
  return `--${attribute.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `maxLineSize` of `max-line-size`, `max_line_size` or `--max-line-size`. */
export function camelOf(name: string): string {
  return name.replace(/^-+/, '').replace(/[-_]+([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A Loki duration (go/duration.ts), 0 included. */
export const duration: ValueRule<bigint> = (text) => {
  const ns = parseDuration(text);
  if (ns === undefined || ns < 0n)
    throw new ValueError(`must be a duration such as 30d or 12h, got ${JSON.stringify(text)}`);
  return ns;
};

/** A duration longer than 0. */
export const positiveDuration: ValueRule<bigint> = (text) => {
  const ns = duration(text);
  if (ns <= 0n) throw new ValueError('must be longer than 0');
  return ns;
};

/** A size in bytes (`256KB`, `64MiB`, `0`). */
export const size: ValueRule<number> = (text) => {
  const n = sizeOrZero(text);
  if (n === undefined)
    throw new ValueError(`must be a size such as 256KB or 64MiB, got ${JSON.stringify(text)}`);
  return n;
};

/** A size of at least `min` bytes (written `minText` in the message). */
export function sizeAtLeast(min: number, minText: string): ValueRule<number> {
  return (text) => {
    const n = size(text);
    if (n < min) throw new ValueError(`must be at least ${minText}`);
    return n;
  };
}

export const positiveInteger: ValueRule<number> = (text) => {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n <= 0)
    throw new ValueError(`must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
};

export const nonNegativeInteger: ValueRule<number> = (text) => {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n))
    throw new ValueError(`must be a non-negative integer, got ${JSON.stringify(text)}`);
  return n;
};

/** `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (every interface). */
export const listenAddress: ValueRule<{ host: string; port: number }> = (text) => {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new ValueError(`must be HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
};

/** `--min-free-disk`: a size or a percentage of the volume. */
export const minFreeDisk: ValueRule<NonNullable<ReturnType<typeof parseMinFree>>> = (text) => {
  const w = parseMinFree(text);
  if (w === undefined)
    throw new ValueError(
      `must be a size such as 2GiB or a percentage such as 5%, got ${JSON.stringify(text)}`,
    );
  return w;
};

/** `true` or `false`, as a flag that takes a value (`--ui=false`) writes them. */
export const boolean: ValueRule<boolean> = (text) => {
  if (text !== 'true' && text !== 'false')
    throw new ValueError(`must be true or false, got ${JSON.stringify(text)}`);
  return text === 'true';
};

/** An http:// or https:// URL. */
export const httpUrl: ValueRule<string> = (text) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValueError(
      `must be an http(s) URL such as http://clickhouse:8123, got ${JSON.stringify(text)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ValueError(`must be http:// or https://, got ${JSON.stringify(text)}`);
  return text;
};

/** A plain SQL identifier (a ClickHouse database or cluster name). */
export const identifier: ValueRule<string> = (text) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(text))
    throw new ValueError(`must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*), got ${JSON.stringify(text)}`);
  return text;
};
