/**
 * @module Regular expressions of filter options, as Fluentd writes them: `pattern: /^(\w+)$/` or
 * without slashes (`pattern: ^(\w+)$`); after the closing slash, the flags `i` (ignore case) and
 * `m` (Ruby's multiline, `.` matches a newline). The engine is RE2 (linear time, no
 * back-references inside the pattern); named groups are written `(?<name>...)` or `(?P<name>...)`.
 */
import RE2 from 're2';
import { ConfigError, type ConfigPath } from '../../config/options.js';

const SLASHED = /^\/(.*)\/([a-z]*)$/s;

export function compilePattern(text: string, path: ConfigPath): RE2 {
  let source = text;
  let flags = 'u';
  const m = SLASHED.exec(text);
  if (m) {
    source = m[1]!;
    for (const f of m[2]!) {
      if (f === 'i') flags += 'i';
      else if (f === 'm') flags += 's';
      else
        throw new ConfigError(path, `unsupported regular expression flag ${JSON.stringify(f)} (i and m are)`);
    }
  }
  try {
    return new RE2(source.replace(/\(\?P</g, '(?<'), flags);
  } catch (err) {
    throw new ConfigError(
      path,
      `invalid regular expression ${JSON.stringify(text)}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** The names of the named groups of a pattern's source, in order. */
export function groupNames(text: string): string[] {
  return [...text.matchAll(/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
}
