/**
 * @module Loki's pattern syntax (`<ip> - <_> [<ts>] "<method> <path> <_>"`), for the `pattern` parser
 * and the `|>` `!>` line filters: literals and captures, matched left to right by first occurrence.
 */
import { LogPipelineCompileError } from './errors.js';

type Node = { kind: 'lit'; text: string } | { kind: 'cap'; name: string };

export interface PatternMatcher {
  /** Capture names, in order, the unnamed `<_>` excluded. */
  readonly names: readonly string[];
  /** Values of the named captures matched so far (a prefix of names when the line ends early). */
  matches(line: string): string[];
  /** The line filter: the whole line matches the pattern. */
  test(line: string): boolean;
}

function lex(p: string): Node[] {
  const nodes: Node[] = [];
  let lit = '';
  let i = 0;
  const re = /<([a-zA-Z_][a-zA-Z0-9_]*)>/y;
  while (i < p.length) {
    if (p[i] === '<') {
      re.lastIndex = i;
      const m = re.exec(p);
      if (m) {
        if (lit !== '') nodes.push({ kind: 'lit', text: lit });
        lit = '';
        nodes.push({ kind: 'cap', name: m[1] as string });
        i = re.lastIndex;
        continue;
      }
    }
    lit += p[i];
    i++;
  }
  if (lit !== '') nodes.push({ kind: 'lit', text: lit });
  return nodes;
}

export function compilePattern(p: string, forFilter: boolean): PatternMatcher {
  const nodes = lex(p);
  // Loki's checks, in its order and words (pkg/logql/log/pattern: New for the parser — a named
  // capture, no two captures in a row, no duplicate name —, ParseLineFilter for |> !> — no two
  // captures in a row, no named capture).
  const names = nodes.flatMap((n) => (n.kind === 'cap' && n.name !== '_' ? [n.name] : []));
  if (!forFilter && names.length === 0) throw new LogPipelineCompileError('at least one capture is required');
  for (let i = 1; i < nodes.length; i++) {
    const a = nodes[i - 1] as Node;
    const b = nodes[i] as Node;
    if (a.kind === 'cap' && b.kind === 'cap')
      throw new LogPipelineCompileError(
        `found consecutive capture '<${a.name}><${b.name}>': invalid expression`,
      );
  }
  if (forFilter && names.length > 0)
    throw new LogPipelineCompileError(`named captures are not allowed: found '<${names[0]}>'`);
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new LogPipelineCompileError(`duplicate capture name (${n}): invalid expression`);
    seen.add(n);
  }

  function matches(input: string): string[] {
    const out: string[] = [];
    if (input.length === 0 || nodes.length === 0) return out;
    let k = 0;
    let pos = 0;
    const first = nodes[0] as Node;
    if (first.kind === 'lit') {
      if (!input.startsWith(first.text)) return out;
      pos = first.text.length;
      k = 1;
    }
    while (k < nodes.length) {
      const cap = nodes[k] as Node & { kind: 'cap' };
      if (k === nodes.length - 1) {
        if (cap.name !== '_') out.push(input.slice(pos));
        return out;
      }
      const lit = nodes[k + 1] as Node & { kind: 'lit' };
      k += 2;
      const i = input.indexOf(lit.text, pos);
      if (i === -1) {
        if (cap.name !== '_') out.push(input.slice(pos));
        return out;
      }
      if (cap.name !== '_') out.push(input.slice(pos, i));
      pos = i + lit.text.length;
    }
    return out;
  }

  /**
   * Loki's Matcher.Test: each literal found in order after the previous one, with at least one
   * byte before it unless it starts the pattern (so a capture never matches empty text); a pattern
   * ending on a capture needs text left for it, one ending on a literal needs none left. Surprising
   * but Loki's: a pattern's first literal may be found anywhere, not only at the start (`foo <_>`
   * matches "xx foo bar"), and an empty pattern matches only the empty line.
   */
  function test(input: string): boolean {
    if (input.length === 0 || nodes.length === 0) return input.length === 0 && nodes.length === 0;
    let off = 0;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i] as Node;
      if (n.kind !== 'lit') continue;
      const j = input.indexOf(n.text, off);
      if (j === -1) return false;
      if (i !== 0 && j === off) return false;
      off = j + n.text.length;
    }
    const endsOnCapture = (nodes[nodes.length - 1] as Node).kind === 'cap';
    return endsOnCapture === (off !== input.length);
  }

  return { names, matches, test };
}
