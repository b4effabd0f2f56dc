/**
 * @module Executes a parsed template against a label map, with Go's semantics for fields (missing
 * keys give the zero value, `missingkey=zero`), pipelines (the piped value is the last argument),
 * truth, `and`/`or` (short-circuit, return an operand) and variables.
 */

import { type FnCtx, FUNCS } from './funcs.js';
import type { Arg, Node, Pipe } from './parse.js';
import { type GoValue, goString, isMap, TemplateError, truth, typeName } from './values.js';

class Break {}
class Continue {}
const BREAK = new Break();
const CONTINUE = new Continue();

export interface ExecEnv extends FnCtx {
  /** The labels (the template's dot at the start). */
  data: GoValue;
}

interface Frame {
  vars: Map<string, GoValue>[];
}

function lookupVar(f: Frame, name: string): GoValue {
  for (let i = f.vars.length - 1; i >= 0; i--) {
    const m = f.vars[i] as Map<string, GoValue>;
    if (m.has(name)) return m.get(name);
  }
  throw new TemplateError(`undefined variable: ${name}`);
}

function setVar(f: Frame, name: string, v: GoValue): void {
  for (let i = f.vars.length - 1; i >= 0; i--) {
    const m = f.vars[i] as Map<string, GoValue>;
    if (m.has(name)) {
      m.set(name, v);
      return;
    }
  }
}

function field(v: GoValue, chain: readonly string[], top: boolean): GoValue {
  let cur = v;
  for (const [i, name] of chain.entries()) {
    if (isMap(cur)) {
      const has = Object.hasOwn(cur, name);
      // labels are map[string]string: a missing key is ""; other maps hold interface{}: nil
      cur = has ? cur[name] : top && i === 0 ? '' : null;
      continue;
    }
    if (cur === null || cur === undefined)
      throw new TemplateError(`nil pointer evaluating interface {}.${name}`);
    throw new TemplateError(`can't evaluate field ${name} in type ${typeName(cur)}`);
  }
  return cur;
}

function evalArg(env: ExecEnv, f: Frame, dot: GoValue, a: Arg): GoValue {
  switch (a.t) {
    case 'dot':
      return dot;
    case 'field':
      return field(dot, a.chain, dot === env.data);
    case 'var':
      return field(lookupVar(f, a.name), a.chain, false);
    case 'const':
      return a.v;
    case 'pipe':
      return field(evalPipe(env, f, dot, a.pipe), a.chain, false);
    case 'fn':
      return call(env, f, dot, a.name, [], undefined, false);
  }
}

function call(
  env: ExecEnv,
  f: Frame,
  dot: GoValue,
  name: string,
  args: readonly Arg[],
  piped: GoValue,
  hasPiped: boolean,
): GoValue {
  if (name === 'and' || name === 'or') {
    const n = args.length + (hasPiped ? 1 : 0);
    if (n === 0) throw new TemplateError(`wrong number of args for ${name}: want at least 1 got 0`);
    let v: GoValue;
    for (let i = 0; i < n; i++) {
      v = i < args.length ? evalArg(env, f, dot, args[i] as Arg) : piped;
      if (name === 'and' ? !truth(v) : truth(v)) return v;
    }
    return v;
  }
  const fn = FUNCS[name];
  if (!fn) throw new TemplateError(`function "${name}" not defined`);
  const vals: GoValue[] = args.map((a) => evalArg(env, f, dot, a));
  if (hasPiped) vals.push(piped);
  try {
    return fn(env, vals);
  } catch (err) {
    if (err instanceof TemplateError) throw new TemplateError(`error calling ${name}: ${err.message}`);
    throw new TemplateError(`error calling ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function evalPipe(env: ExecEnv, f: Frame, dot: GoValue, pipe: Pipe): GoValue {
  let v: GoValue;
  let has = false;
  for (const cmd of pipe.cmds) {
    const first = cmd[0] as Arg;
    if (first.t === 'fn') {
      v = call(env, f, dot, first.name, cmd.slice(1), v, has);
    } else {
      if (cmd.length > 1 || has) {
        throw new TemplateError(
          `can't give argument to non-function ${goString(evalArg(env, f, dot, first))}`,
        );
      }
      v = evalArg(env, f, dot, first);
    }
    has = true;
  }
  if (pipe.decl.length > 0) {
    const name = pipe.decl[0] as string;
    if (pipe.assign) setVar(f, name, v);
    else f.vars[f.vars.length - 1]?.set(name, v);
  }
  return v;
}

function walk(env: ExecEnv, f: Frame, dot: GoValue, nodes: readonly Node[], out: string[]): void {
  for (const n of nodes) {
    switch (n.t) {
      case 'text':
        out.push(n.s);
        break;
      case 'action': {
        const v = evalPipe(env, f, dot, n.pipe);
        if (n.pipe.decl.length === 0) out.push(v === null ? '<no value>' : goString(v));
        break;
      }
      case 'if':
      case 'with': {
        f.vars.push(new Map());
        try {
          const v = evalPipe(env, f, dot, n.pipe);
          if (truth(v)) walk(env, f, n.t === 'with' ? v : dot, n.list, out);
          else if (n.else) walk(env, f, dot, n.else, out);
        } finally {
          f.vars.pop();
        }
        break;
      }
      case 'range': {
        f.vars.push(new Map());
        try {
          const decl = n.pipe.decl;
          const bare: Pipe = { decl: [], assign: false, cmds: n.pipe.cmds };
          const v = evalPipe(env, f, dot, bare);
          let entries: [GoValue, GoValue][];
          if (Array.isArray(v)) entries = v.map((x, i) => [BigInt(i), x]);
          else if (isMap(v))
            entries = Object.keys(v)
              .sort()
              .map((k) => [k, v[k]]);
          else if (typeof v === 'bigint')
            entries = Array.from({ length: Number(v) }, (_, i) => [BigInt(i), BigInt(i)]);
          else if (v === null || v === undefined) entries = [];
          else throw new TemplateError(`range can't iterate over ${goString(v)}`);
          if (entries.length === 0) {
            if (n.else) walk(env, f, dot, n.else, out);
            break;
          }
          const scope = f.vars[f.vars.length - 1] as Map<string, GoValue>;
          for (const [k, x] of entries) {
            if (decl.length === 1) scope.set(decl[0] as string, x);
            if (decl.length === 2) {
              scope.set(decl[0] as string, k);
              scope.set(decl[1] as string, x);
            }
            try {
              walk(env, f, x, n.list, out);
            } catch (e) {
              if (e === BREAK) break;
              if (e === CONTINUE) continue;
              throw e;
            }
          }
        } finally {
          f.vars.pop();
        }
        break;
      }
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
    }
  }
}

/** Runs the template; throws TemplateError on an execution error. */
export function execute(nodes: readonly Node[], env: ExecEnv): string {
  if (nodes.length === 1) {
    const only = nodes[0] as Node;
    if (only.t === 'text') return only.s;
  }
  const out: string[] = [];
  const frame: Frame = { vars: [new Map([['$', env.data]])] };
  walk(env, frame, env.data, nodes, out);
  return out.join('');
}
