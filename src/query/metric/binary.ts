/**
 * @module Binary operators per step, as Loki evaluates them (evaluator.go, syntax MergeBinOp):
 * arithmetic (division and modulo by zero give NaN), comparisons that filter (keeping the vector
 * side's value) or, with `bool`, return 0/1, set operators, and vector matching with on/ignoring
 * and group_left/group_right.
 */
import type { BinaryExpr, BinaryOperator } from '../../logql/ast.js';
import { labelValue } from '../../model/kube-meta.js';
import { labelsKey } from '../../model/labels-key.js';
import type { Labels } from '../../model/record.js';
import { dropLabels, pickLabels } from './labels.js';
import { newSeries } from './range.js';
import { MetricEvalError, type StepSeries, type Steps } from './types.js';

const COMPARISONS = new Set<BinaryOperator>(['==', '!=', '>', '>=', '<', '<=']);

export function isComparison(op: BinaryOperator): boolean {
  return COMPARISONS.has(op);
}

/** The raw result of `l op r`: a number, or for comparisons 1/0. */
export function applyOp(op: BinaryOperator, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return r === 0 ? Number.NaN : l / r;
    case '%':
      return r === 0 ? Number.NaN : l % r;
    case '^':
      return l ** r;
    case '==':
      return l === r ? 1 : 0;
    case '!=':
      return l !== r ? 1 : 0;
    case '>':
      return l > r ? 1 : 0;
    case '>=':
      return l >= r ? 1 : 0;
    case '<':
      return l < r ? 1 : 0;
    case '<=':
      return l <= r ? 1 : 0;
    default:
      throw new MetricEvalError(`unexpected operation: (${op})`);
  }
}

/** scalar op scalar: comparisons give 0/1, as Loki folds them. */
export function scalarScalar(op: BinaryOperator, l: number, r: number): number {
  if (op === 'and' || op === 'or' || op === 'unless')
    throw new MetricEvalError(`set operator "${op}" not allowed in binary scalar expression`);
  return applyOp(op, l, r);
}

/** vector op scalar (scalarOnLeft: scalar op vector). Labels stay those of the vector. */
export function vectorScalar(
  expr: BinaryExpr,
  input: readonly StepSeries[],
  scalar: number,
  scalarOnLeft: boolean,
  steps: Steps,
): StepSeries[] {
  const op = expr.op;
  if (op === 'and' || op === 'or' || op === 'unless')
    throw new MetricEvalError(`set operator "${op}" not allowed in binary scalar expression`);
  const cmp = isComparison(op);
  const out: StepSeries[] = [];
  for (const s of input) {
    const o = newSeries(s.labels, steps.n);
    let any = false;
    for (let i = 0; i < steps.n; i++) {
      if (!s.present[i]) continue;
      const v = s.values[i]!;
      const res = scalarOnLeft ? applyOp(op, scalar, v) : applyOp(op, v, scalar);
      if (cmp && !expr.returnBool) {
        if (res === 0) continue;
        o.values[i] = v; // the vector side's value
      } else o.values[i] = res;
      o.present[i] = 1;
      any = true;
    }
    if (any) out.push(o);
  }
  return out;
}

function signature(labels: Labels, expr: BinaryExpr): string {
  const m = expr.matching;
  if (!m) return labelsKey(labels);
  return labelsKey(m.on ? pickLabels(labels, m.labels) : dropLabels(labels, m.labels));
}

type Card = 'one-to-one' | 'many-to-one' | 'one-to-many';

function cardOf(expr: BinaryExpr): Card {
  const side = expr.matching?.group?.side;
  return side === 'left' ? 'many-to-one' : side === 'right' ? 'one-to-many' : 'one-to-one';
}

/** Loki's resultMetric: labels of the "many" side, reduced by on/ignoring, plus group_x labels. */
function resultMetric(lhs: Labels, rhs: Labels, expr: BinaryExpr): Labels {
  const m = expr.matching;
  if (!m) return lhs;
  let out: Labels = { ...lhs };
  if (!m.group) out = m.on ? pickLabels(lhs, m.labels) : dropLabels(lhs, m.labels);
  for (const name of m.group?.include ?? []) {
    const v = labelValue(rhs, name);
    if (v !== undefined && v !== '') out[name] = v;
    else delete out[name];
  }
  return out;
}

export function vectorVector(
  expr: BinaryExpr,
  left: readonly StepSeries[],
  right: readonly StepSeries[],
  steps: Steps,
): StepSeries[] {
  const op = expr.op;
  const lsig = left.map((s) => signature(s.labels, expr));
  const rsig = right.map((s) => signature(s.labels, expr));
  const outs = new Map<string, StepSeries>();
  const put = (labels: Labels, i: number, v: number): void => {
    const key = labelsKey(labels);
    let o = outs.get(key);
    if (!o) {
      o = newSeries(labels, steps.n);
      outs.set(key, o);
    }
    o.values[i] = v;
    o.present[i] = 1;
  };
  const metricCache = new Map<string, Labels>();
  const card = cardOf(expr);
  for (let i = 0; i < steps.n; i++) {
    const ls: number[] = [];
    const rs: number[] = [];
    for (let j = 0; j < left.length; j++) if (left[j]!.present[i]) ls.push(j);
    for (let j = 0; j < right.length; j++) if (right[j]!.present[i]) rs.push(j);
    if (op === 'and' || op === 'or' || op === 'unless') {
      const rset = new Set(rs.map((j) => rsig[j]!));
      if (op === 'and') {
        if (ls.length === 0 || rs.length === 0) continue;
        for (const j of ls) if (rset.has(lsig[j]!)) put(left[j]!.labels, i, left[j]!.values[i]!);
      } else if (op === 'unless') {
        for (const j of ls)
          if (rs.length === 0 || !rset.has(lsig[j]!)) put(left[j]!.labels, i, left[j]!.values[i]!);
      } else {
        const lset = new Set(ls.map((j) => lsig[j]!));
        for (const j of ls) put(left[j]!.labels, i, left[j]!.values[i]!);
        for (const j of rs) if (!lset.has(rsig[j]!)) put(right[j]!.labels, i, right[j]!.values[i]!);
      }
      continue;
    }
    // One-to-many matching swaps the sides, so that the "one" side is always indexed.
    const swap = card === 'one-to-many';
    const many = swap ? { s: right, idx: rs, sig: rsig } : { s: left, idx: ls, sig: lsig };
    const one = swap ? { s: left, idx: ls, sig: lsig } : { s: right, idx: rs, sig: rsig };
    const oneBySig = new Map<string, number>();
    for (const j of one.idx) {
      const sig = one.sig[j]!;
      if (oneBySig.has(sig)) {
        throw new MetricEvalError(
          `found duplicate series on the ${swap ? 'left' : 'right'} hand-side;many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
      oneBySig.set(sig, j);
    }
    const matched = new Map<string, Set<string> | null>();
    for (const j of many.idx) {
      const sig = many.sig[j]!;
      const o = oneBySig.get(sig);
      if (o === undefined) continue;
      const cacheKey = `${j}|${o}`;
      let metric = metricCache.get(cacheKey);
      if (!metric) {
        metric = resultMetric(many.s[j]!.labels, one.s[o]!.labels, expr);
        metricCache.set(cacheKey, metric);
      }
      if (card === 'one-to-one') {
        if (matched.has(sig)) {
          throw new MetricEvalError(
            'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
          );
        }
        matched.set(sig, null);
      } else {
        let inserted = matched.get(sig);
        if (!inserted) {
          inserted = new Set();
          matched.set(sig, inserted);
        }
        const mk = labelsKey(metric);
        if (inserted.has(mk)) {
          throw new MetricEvalError(
            'multiple matches for labels: grouping labels must ensure unique matches',
          );
        }
        inserted.add(mk);
      }
      const lv = swap ? one.s[o]!.values[i]! : many.s[j]!.values[i]!;
      const rv = swap ? many.s[j]!.values[i]! : one.s[o]!.values[i]!;
      const res = applyOp(op, lv, rv);
      if (isComparison(op) && !expr.returnBool) {
        if (res === 0) continue;
        put(metric, i, lv);
      } else put(metric, i, res);
    }
  }
  return [...outs.values()];
}
