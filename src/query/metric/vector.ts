/**
 * @module Vector aggregations per step, as Loki's VectorAggEvaluator computes them: sum, avg
 * (incremental mean), min, max, count, stddev and stdvar (Welford), and topk, bottomk, sort and
 * sort_desc through Go's container/heap, so that ties resolve as Loki resolves them for a given
 * input order (here: series sorted by labels).
 */
import type { VectorAggregation } from '../../logql/ast.js';
import { labelsKey } from '../../model/labels-key.js';
import { compareLabels, groupLabels } from './labels.js';
import { newSeries } from './range.js';
import type { StepSeries, Steps } from './types.js';

interface HeapItem {
  readonly series: number;
  readonly value: number;
}

/** Go's container/heap over a slice with a Less function. */
class GoHeap {
  readonly items: HeapItem[] = [];
  constructor(private readonly less: (a: HeapItem, b: HeapItem) => boolean) {}

  private up(j: number): void {
    const h = this.items;
    for (;;) {
      const i = Math.floor((j - 1) / 2);
      if (i === j || j <= 0 || !this.less(h[j]!, h[i]!)) break;
      [h[i], h[j]] = [h[j]!, h[i]!];
      j = i;
    }
  }

  private down(i0: number, n: number): void {
    const h = this.items;
    let i = i0;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && this.less(h[j2]!, h[j1]!)) j = j2;
      if (!this.less(h[j]!, h[i]!)) break;
      [h[i], h[j]] = [h[j]!, h[i]!];
      i = j;
    }
  }

  push(x: HeapItem): void {
    this.items.push(x);
    this.up(this.items.length - 1);
  }

  pop(): HeapItem | undefined {
    const h = this.items;
    const n = h.length - 1;
    [h[0], h[n]] = [h[n]!, h[0]!];
    this.down(0, n);
    return h.pop();
  }
}

const byValue = (a: HeapItem, b: HeapItem): boolean => Number.isNaN(a.value) || a.value < b.value;
const byReverseValue = (a: HeapItem, b: HeapItem): boolean => Number.isNaN(a.value) || a.value > b.value;

interface Group {
  readonly out: StepSeries;
  readonly members: number[];
}

export function evalVectorAggregation(
  agg: VectorAggregation,
  input: readonly StepSeries[],
  steps: Steps,
): StepSeries[] {
  const n = steps.n;
  const without = agg.grouping?.without ?? false;
  const names = agg.grouping?.labels ?? [];
  const groups = new Map<string, Group>();
  for (let s = 0; s < input.length; s++) {
    const labels = groupLabels(input[s]!.labels, without, names);
    const key = labelsKey(labels);
    let g = groups.get(key);
    if (!g) {
      g = { out: newSeries(labels, n), members: [] };
      groups.set(key, g);
    }
    g.members.push(s);
  }
  const op = agg.op;
  if (op === 'topk' || op === 'bottomk' || op === 'sort' || op === 'sort_desc') {
    return selectSeries(agg, input, [...groups.values()], n);
  }
  const out: StepSeries[] = [];
  for (const g of groups.values()) {
    const { values, present } = g.out;
    for (let i = 0; i < n; i++) {
      let count = 0;
      let value = 0;
      let mean = 0;
      for (const m of g.members) {
        const s = input[m]!;
        if (!s.present[i]) continue;
        const f = s.values[i]!;
        if (count === 0) {
          count = 1;
          value = op === 'stddev' || op === 'stdvar' ? 0 : f;
          mean = f;
          continue;
        }
        switch (op) {
          case 'sum':
            value += f;
            break;
          case 'avg':
            count++;
            mean += (f - mean) / count;
            break;
          case 'max':
            if (value < f || Number.isNaN(value)) value = f;
            break;
          case 'min':
            if (value > f || Number.isNaN(value)) value = f;
            break;
          case 'count':
            count++;
            break;
          case 'stddev':
          case 'stdvar': {
            count++;
            const delta = f - mean;
            mean += delta / count;
            value += delta * (f - mean);
            break;
          }
        }
      }
      if (count === 0) continue;
      switch (op) {
        case 'avg':
          value = mean;
          break;
        case 'count':
          value = count;
          break;
        case 'stddev':
          value = Math.sqrt(value / count);
          break;
        case 'stdvar':
          value = value / count;
          break;
      }
      values[i] = value;
      present[i] = 1;
    }
    if (present.includes(1)) out.push(g.out);
  }
  return out;
}

/** topk, bottomk, sort, sort_desc: the selected input series keep their labels. */
function selectSeries(
  agg: VectorAggregation,
  input: readonly StepSeries[],
  groups: Group[],
  n: number,
): StepSeries[] {
  const op = agg.op;
  const k = Math.trunc(agg.param ?? 0);
  const outs = new Map<number, StepSeries>();
  /** For sort and sort_desc: the order of the series at the step (instant queries keep it). */
  let order: number[] = [];
  if ((op === 'topk' || op === 'bottomk') && k < 1) return [];
  for (let i = 0; i < n; i++) {
    order = [];
    for (const g of groups) {
      const top = op === 'topk' || op === 'sort_desc';
      const heap = new GoHeap(top ? byValue : byReverseValue);
      for (const m of g.members) {
        const s = input[m]!;
        if (!s.present[i]) continue;
        const f = s.values[i]!;
        const item = { series: m, value: f };
        if (op === 'sort' || op === 'sort_desc') {
          heap.push(item);
          continue;
        }
        const h0 = heap.items[0];
        if (
          heap.items.length < k ||
          (h0 !== undefined && (top ? h0.value < f : h0.value > f)) ||
          (h0 !== undefined && Number.isNaN(h0.value))
        ) {
          if (heap.items.length === k) heap.pop();
          heap.push(item);
        }
      }
      // Reverse of the heap's order: highest first for topk/sort_desc, lowest first otherwise.
      const less = top ? byValue : byReverseValue;
      const selected = [...heap.items].sort((a, b) => {
        if (less(b, a)) return -1;
        if (less(a, b)) return 1;
        return compareLabels(input[a.series]!.labels, input[b.series]!.labels);
      });
      for (const it of selected) {
        let o = outs.get(it.series);
        if (!o) {
          o = newSeries(input[it.series]!.labels, n);
          outs.set(it.series, o);
        }
        o.values[i] = it.value;
        o.present[i] = 1;
        order.push(it.series);
      }
    }
  }
  if (n === 1 && (op === 'sort' || op === 'sort_desc')) return order.map((s) => outs.get(s)!);
  return [...outs.values()];
}
