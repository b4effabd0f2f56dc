/** The one labels key (src/model/labels-key.ts): Prometheus' labels.String() shape, names sorted. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelsKey } from '../../src/model/labels-key.js';

test('names sorted by code unit, values quoted, comma and space between', () => {
  assert.equal(labelsKey({}), '{}');
  assert.equal(labelsKey({ b: '2', a: '1', B: 'x' }), '{B="x", a="1", b="2"}');
  assert.equal(labelsKey({ a: 'say "hi"\n', é: 'é' }), '{a="say \\"hi\\"\\n", é="é"}');
  // The key is an identity: two orders of the same set give one key.
  assert.equal(labelsKey({ x: '1', y: '2' }), labelsKey({ y: '2', x: '1' }));
});
