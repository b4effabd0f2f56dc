/**
 * Detected labels (src/query/detected-labels.ts) with the cases of Loki v3.4's
 * pkg/querier/querier_test.go TestQuerier_DetectedLabels, as data: the values the store and the
 * ingesters had for each label, merged (kjournal has one store), and the labels and cardinalities
 * Loki answers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectLabels, isUuid, shouldRejectLabel } from '../../src/query/detected-labels.js';

/** Streams that together have these values for these labels (stream i has value i of each). */
function streams(values: Record<string, string[]>): Record<string, string>[] {
  const n = Math.max(...Object.values(values).map((v) => v.length));
  return Array.from({ length: n }, (_, i) => {
    const labels: Record<string, string> = {};
    for (const [name, vs] of Object.entries(values)) if (i < vs.length) labels[name] = vs[i]!;
    return labels;
  });
}

function cardinalities(values: Record<string, string[]>): Record<string, number> {
  return Object.fromEntries(detectLabels(streams(values)).map((l) => [l.label, l.cardinality]));
}

describe('detected labels', () => {
  test('Loki: store and ingester labels, duplicates counted once', () => {
    assert.deepEqual(
      cardinalities({
        cluster: ['ingester'],
        ingesterLabel: ['abc', 'def', 'ghi', 'abc'],
        storeLabel: ['val1', 'val2'],
      }),
      { cluster: 1, ingesterLabel: 3, storeLabel: 2 },
    );
    assert.deepEqual(
      cardinalities({
        cluster: ['ingester'],
        ingesterLabel: ['abc', 'def', 'ghi', 'abc'],
        commonLabel: ['abc', 'def', 'ghi', 'abc', 'def', 'xyz', 'lmo', 'abc'],
        storeLabel: ['val1', 'val2'],
      }),
      { cluster: 1, commonLabel: 5, ingesterLabel: 3, storeLabel: 2 },
    );
  });

  test('Loki: labels whose values are all numbers or UUIDs are left out', () => {
    assert.deepEqual(
      cardinalities({
        'all-ints': ['1', '2', '3', '4'],
        'all-floats': ['1.2', '2.3', '3.4', '4.5'],
        'all-uuids': [
          '751e8ee6-b377-4b2e-b7b5-5508fbe980ef',
          '6b7e2663-8ecb-42e1-8bdc-0c5de70185b3',
          '2e1e67ff-be4f-47b8-aee1-5d67ff1ddabf',
          'c95b2d62-74ed-4ed7-a8a1-eb72fc67946e',
        ],
      }),
      {},
    );
  });

  test('Loki: static labels are always returned, whatever their values', () => {
    const many = Array.from({ length: 60 }, (_, i) => `a${i}`);
    assert.deepEqual(cardinalities({ cluster: ['val1'], namespace: many, pod: ['1', '2', '3', '4'] }), {
      cluster: 1,
      namespace: 60,
      pod: 4,
    });
  });

  test('shouldRejectLabel: no values, or ids only; 0 and 1 alone are booleans', () => {
    assert.equal(shouldRejectLabel([]), true);
    assert.equal(shouldRejectLabel(['0', '1']), false);
    assert.equal(shouldRejectLabel(['1']), false);
    assert.equal(shouldRejectLabel(['0', '1', '2']), true);
    assert.equal(shouldRejectLabel(['1', '2']), true);
    assert.equal(shouldRejectLabel(['1', 'x']), false);
    assert.equal(shouldRejectLabel(['1e3', 'Inf', '0x1p4']), true, "Go's ParseFloat takes these");
    assert.equal(shouldRejectLabel(['751e8ee6-b377-4b2e-b7b5-5508fbe980ef', 'checkout']), false);
  });

  test("isUuid: google/uuid's forms", () => {
    for (const v of [
      '751e8ee6-b377-4b2e-b7b5-5508fbe980ef',
      '{751e8ee6-b377-4b2e-b7b5-5508fbe980ef}',
      'urn:uuid:751e8ee6-b377-4b2e-b7b5-5508fbe980ef',
      '751e8ee6b3774b2eb7b55508fbe980ef',
    ])
      assert.ok(isUuid(v), v);
    for (const v of [
      '751e8ee6-b377-4b2e-b7b5-5508fbe980e',
      '751e8ee6_b377_4b2e_b7b5_5508fbe980ef',
      'g51e8ee6b3774b2eb7b55508fbe980ef',
    ])
      assert.ok(!isUuid(v), v);
  });
});
