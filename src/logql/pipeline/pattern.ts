/**
 * @module Loki's pattern syntax (`<ip> - <_> [<ts>] "<method> <path> <_>"`), for the `pattern` parser
 * and the `|>` `!>` line filters: literals and captures, matched left to right by first occurrence.
 */
import { PipelineCompileError } from './errors.js';

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
  const names: string[] = [];
  const seen = new Set<string>();
  let captures = 0;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i] as Node;
    if (n.kind !== 'cap') continue;
    captures++;
    if (i > 0 && nodes[i - 1]?.kind === 'cap') throw new PipelineCompileError('found consecutive capture');
    if (n.name !== '_') {
      if (seen.has(n.name)) throw new PipelineCompileError(`duplicate capture name (${n.name})`);
      seen.add(n.name);
      names.push(n.name);
    }
  }
  if (!forFilter && captures === 0) throw new PipelineCompileError('at least one capture is required');
  if (!forFilter && names.length === 0)
    throw new PipelineCompileError('at least one named capture is required');

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

  function test(input: string): boolean {
    if (nodes.length === 0) return input.length === 0;
    let k = 0;
    let pos = 0;
    const first = nodes[0] as Node;
    if (first.kind === 'lit') {
      if (!input.startsWith(first.text)) return false;
      pos = first.text.length;
      k = 1;
    }
    while (k < nodes.length) {
      if (k === nodes.length - 1) return true; // ends on a capture: takes the rest
      const lit = nodes[k + 1] as Node & { kind: 'lit' };
      k += 2;
      const i = input.indexOf(lit.text, pos);
      if (i === -1) return false;
      pos = i + lit.text.length;
    }
    return pos === input.length;
  }

  return { names, matches, test };
}
