/**
 * `by (...)` labels of a pipeline's output looked up in place (src/query/metric/labels.ts:
 * pickOutputLabels, outputFails) against the definition they replace on the hot path:
 * pickLabels(allLabels(out), names) and the merged set's `__error__` / `__preserve_error__`.
 * Random outputs whose layers share names (parsed over metadata over stream), Kubernetes spellings
 * (`namespace` found as `k8s_namespace_name`), empty values and names of Object.prototype.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allLabels, type LogPipelineOutput } from '../../src/logql/stages/types.js';
import type { Labels } from '../../src/model/record.js';
import { outputFails, pickLabels, pickOutputLabels } from '../../src/query/metric/labels.js';

const NAMES = [
  'level',
  'namespace',
  'k8s_namespace_name',
  'kubernetes_namespace_name',
  'pod',
  'k8s_pod_name',
  'app',
  'constructor',
  '__error__',
  '__preserve_error__',
  'msg',
];
const VALUES = ['', 'a', 'b', 'true', 'JSONParserErr'];

let seed = 7;
const rand = (n: number): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed % n;
};

function layer(): Labels {
  const l: Labels = {};
  for (let i = rand(5); i > 0; i--) l[NAMES[rand(NAMES.length)]!] = VALUES[rand(VALUES.length)]!;
  return l;
}

test('pickOutputLabels and outputFails answer as the merged labels do, over 5,000 random outputs', () => {
  for (let i = 0; i < 5000; i++) {
    const out: LogPipelineOutput = { line: 'x', stream: layer(), metadata: layer(), parsed: layer() };
    const names = Array.from({ length: rand(4) }, () => NAMES[rand(NAMES.length)]!);
    const merged = allLabels(out);
    const context = JSON.stringify({ out, names });
    assert.deepEqual(pickOutputLabels(out, names), pickLabels(merged, names), context);
    assert.equal(outputFails(out), !!merged.__error__ && merged.__preserve_error__ !== 'true', context);
  }
});

test('an alias is found in any layer; the name asked for wins over its alias', () => {
  const out: LogPipelineOutput = {
    line: 'x',
    stream: { k8s_namespace_name: 'from-stream' },
    metadata: {},
    parsed: { level: 'error' },
  };
  assert.deepEqual(pickOutputLabels(out, ['namespace', 'level']), {
    namespace: 'from-stream',
    level: 'error',
  });
  const both: LogPipelineOutput = { ...out, parsed: { namespace: 'parsed' } };
  assert.deepEqual(pickOutputLabels(both, ['namespace']), { namespace: 'parsed' });
});
