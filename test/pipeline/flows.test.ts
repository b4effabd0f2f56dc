/**
 * Flow match semantics (the logging operator's): in order, the first matching select/exclude
 * decides; AND within one element, OR within a list of values; nothing matching → not taken; no
 * match list → everything. And filters run in order, a drop ends the record, a throwing filter
 * marks it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogRecord } from '../../src/model/record.js';
import type { Filter } from '../../src/pipeline/filter.js';
import { applyFilters, flowTakes, type MatchRule } from '../../src/pipeline/flows.js';
import { rec } from './helpers.js';

const audit = rec({ kind: 'auditevent', class: 'audit', namespace: 'kube-system' }, 'a', { user: 'admin' });
const app = rec({ kind: 'containerlog', class: 'application', namespace: 'shop', app: 'web' }, 'b', {
  user: 'bob',
});
const infra = rec(
  { kind: 'containerlog', class: 'infrastructure', namespace: 'kube-system', app: 'dns' },
  'c',
);
const bare: LogRecord = { ...rec({}, 'd'), labels: {} };

const sel = (c: Omit<MatchRule, 'action'>): MatchRule => ({ action: 'select', ...c });
const exc = (c: Omit<MatchRule, 'action'>): MatchRule => ({ action: 'exclude', ...c });

/** [what, match, [audit, app, infra, bare] taken?] */
const CASES: [string, MatchRule[], [boolean, boolean, boolean, boolean]][] = [
  ['no match list takes everything', [], [true, true, true, true]],
  ['an empty select takes everything', [sel({})], [true, true, true, true]],
  ['only an exclude takes nothing', [exc({ kind: ['auditevent'] })], [false, false, false, false]],
  [
    'exclude then empty select: everything but the excluded',
    [exc({ kind: ['auditevent'] }), sel({})],
    [false, true, true, true],
  ],
  ['select by kind', [sel({ kind: ['auditevent'] })], [true, false, false, false]],
  ['a list of kinds is OR', [sel({ kind: ['auditevent', 'containerlog'] })], [true, true, true, false]],
  ['select by class', [sel({ class: ['infrastructure', 'audit'] })], [true, false, true, false]],
  ['select by a label', [sel({ labels: { namespace: ['kube-system'] } })], [true, false, true, false]],
  [
    'a list of label values is OR',
    [sel({ labels: { namespace: ['shop', 'kube-system'] } })],
    [true, true, true, false],
  ],
  [
    'conditions in one select are AND',
    [sel({ kind: ['containerlog'], labels: { namespace: ['kube-system'] } })],
    [false, false, true, false],
  ],
  [
    'two labels in one select are AND',
    [sel({ labels: { namespace: ['shop'], app: ['dns'] } })],
    [false, false, false, false],
  ],
  ['a missing label does not match', [sel({ labels: { app: ['web', 'dns'] } })], [false, true, true, false]],
  ['select by an attribute', [sel({ attributes: { user: ['admin'] } })], [true, false, false, false]],
  [
    'the first matching element decides: select before exclude',
    [sel({ kind: ['auditevent'] }), exc({ labels: { namespace: ['kube-system'] } }), sel({})],
    [true, true, false, true],
  ],
  [
    'the first matching element decides: exclude before select',
    [exc({ labels: { namespace: ['kube-system'] } }), sel({ kind: ['auditevent'] })],
    [false, false, false, false],
  ],
  [
    // The select decides for every audit event first, so the exclude never applies to them.
    "the issue's example: select audit, then exclude kube-system (kube-system audit still taken)",
    [sel({ kind: ['auditevent'] }), exc({ labels: { namespace: ['kube-system'] } })],
    [true, false, false, false],
  ],
  [
    'exclude of a missing label does not apply',
    [exc({ labels: { app: ['web'] } }), sel({})],
    [true, false, true, true],
  ],
];

for (const [what, match, expected] of CASES) {
  test(`match: ${what}`, () => {
    assert.deepEqual(
      [audit, app, infra, bare].map((r) => flowTakes(match, r)),
      expected,
    );
  });
}

const f = (type: string, apply: (r: LogRecord) => LogRecord | null): Filter => ({ type, apply });

test('filters run in order on their own copy; the original record is unchanged', () => {
  const r = rec({}, 'x');
  const out = applyFilters(
    [f('a', (x) => ({ ...x, body: `${x.body}1` })), f('b', (x) => ({ ...x, body: `${x.body}2` }))],
    r,
  );
  assert.equal(out!.body, 'x12');
  assert.equal(r.body, 'x');
});

test('a filter returning null drops the record and later filters do not run', () => {
  let ran = false;
  const out = applyFilters(
    [
      f('drop', () => null),
      f('after', (x) => {
        ran = true;
        return x;
      }),
    ],
    rec(),
  );
  assert.equal(out, null);
  assert.equal(ran, false);
});

test('a filter that throws keeps the record with __error__ set', () => {
  const r = rec({}, 'keep me');
  const out = applyFilters(
    [
      f('bad', () => {
        throw new Error('boom');
      }),
    ],
    r,
  );
  assert.equal(out!.body, 'keep me');
  assert.equal(out!.attributes.__error__, 'FilterError');
  assert.equal(out!.attributes.__error_details__, 'bad: boom');
});
