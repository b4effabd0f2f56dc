/**
 * @module Line filters: `|=` `!=` (substring), `|~` `!~` (RE2, unanchored), `|>` `!>` (pattern),
 * `ip("...")`, each with `or` alternatives: positive filters keep a line matching any alternative,
 * negative ones keep a line matching none.
 */
import RE2 from 're2';
import type { LineFilterStage } from '../ast.js';
import { LogPipelineCompileError, message } from './errors.js';
import { compileIpMatcher, lineHasIp } from './ip.js';
import { compilePattern } from './pattern.js';
import type { Stage } from './stage.js';

export type LineTest = (line: string) => boolean;

export function compileRe2(source: string): RE2 {
  try {
    return new RE2(source, 'u');
  } catch (err) {
    throw new LogPipelineCompileError(
      `invalid regular expression ${JSON.stringify(source)}: ${message(err)}`,
    );
  }
}

function one(op: LineFilterStage['op'], value: string, ip: boolean): LineTest {
  if (ip) {
    const m = compileIpMatcher(value);
    return (line) => lineHasIp(line, m);
  }
  switch (op) {
    case '|=':
    case '!=':
      if (value === '') return () => true;
      return (line) => line.includes(value);
    case '|~':
    case '!~': {
      if (value === '') return () => true;
      const re = compileRe2(value);
      return (line) => re.test(line);
    }
    case '|>':
    case '!>': {
      const p = compilePattern(value, true);
      return (line) => p.test(line);
    }
  }
}

export function compileLineFilter(stage: LineFilterStage): Stage {
  const tests = [
    one(stage.op, stage.value, stage.ip === true),
    ...stage.or.map((v, k) => one(stage.op, v, stage.orIp?.[k] === true)),
  ];
  const negative = stage.op === '!=' || stage.op === '!~' || stage.op === '!>';
  if (tests.length === 1) {
    const t = tests[0] as LineTest;
    return negative ? (st) => !t(st.line) : (st) => t(st.line);
  }
  if (negative) return (st) => !tests.some((t) => t(st.line));
  return (st) => tests.some((t) => t(st.line));
}
