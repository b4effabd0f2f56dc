/**
 * The byte budget of live consumers: what fits, what the socket already holds, what is taken.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConsumerBuffer, entryBytes } from '../../../src/api/http/consumer-buffer.js';

describe('ConsumerBuffer', () => {
  test('takes items while queued plus unsent bytes fit the budget; keeps the oldest', () => {
    const q = new ConsumerBuffer<string>(100);
    assert.equal(q.offer('a', 40), true);
    assert.equal(q.offer('b', 40), true);
    assert.equal(q.offer('c', 40), false, 'over the budget');
    assert.equal(q.offer('c', 20), true);
    assert.equal(q.bytes, 100);
    assert.deepEqual(q.take(1000), ['a', 'b', 'c']);
    assert.equal(q.bytes, 0);
    // What the socket holds counts: 70 unsent bytes leave room for 30.
    assert.equal(q.offer('d', 40, 70), false);
    assert.equal(q.offer('d', 30, 70), true);
  });

  test('an item larger than the budget passes only to an idle consumer', () => {
    const q = new ConsumerBuffer<string>(10);
    assert.equal(q.offer('big', 50, 1), false, 'the socket still holds bytes');
    assert.equal(q.offer('big', 50, 0), true);
    assert.equal(q.offer('small', 1), false, 'nothing more behind it');
  });

  test('take stops at the byte limit (one item at least) and at the first not ready', () => {
    const q = new ConsumerBuffer<number>(1000);
    for (const n of [1, 2, 3, 4]) q.offer(n, 100);
    assert.deepEqual(q.take(50), [1], 'at least one');
    assert.deepEqual(q.take(250), [2, 3]);
    assert.deepEqual(
      q.take(1000, (n) => n < 4),
      [],
    );
    assert.equal(q.peek(), 4);
    q.retain((n) => n !== 4);
    assert.equal(q.length, 0);
    assert.equal(q.bytes, 0);
  });

  test('entries cost their body, labels and metadata', () => {
    const small = entryBytes({ body: 'x', labels: { a: 'b' }, attributes: {} });
    const big = entryBytes({ body: 'x'.repeat(256 * 1024), labels: { a: 'b' }, attributes: {} });
    assert.equal(big - small, 256 * 1024 - 1);
  });
});
