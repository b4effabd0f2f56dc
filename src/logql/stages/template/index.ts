/**
 * @module Go text/template with Loki's functions: compile once, execute per entry.
 */
import { type ExecEnv, execute } from './exec.js';
import { isTemplateFunc } from './funcs.js';
import { type Node, parseTemplate } from './parse.js';
import type { GoValue } from './values.js';

export { TemplateError } from './values.js';

export interface Template {
  /** Throws TemplateError when execution fails. */
  run(data: GoValue, line: string, ts: bigint): string;
  /** The template is plain text (no actions). */
  readonly constant: string | undefined;
}

export function compileTemplate(name: string, source: string): Template {
  const nodes: readonly Node[] = parseTemplate(name, source, isTemplateFunc);
  const env: ExecEnv = { data: null, line: '', ts: 0n };
  let constant: string | undefined;
  if (nodes.length === 0) constant = '';
  else if (nodes.length === 1 && nodes[0]?.t === 'text') constant = nodes[0].s;
  return {
    constant,
    run(data, line, ts) {
      env.data = data;
      env.line = line;
      env.ts = ts;
      try {
        return execute(nodes, env);
      } catch (err) {
        if (err instanceof Error && err.name === 'TemplateError') throw err;
        throw err;
      } finally {
        env.data = null;
      }
    },
  };
}
