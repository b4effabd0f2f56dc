/**
 * The per-record limits (formats/record-check.ts): structured metadata is measured once per shared
 * attributes object, even when records of several objects interleave, and one-off objects are
 * measured each (and answered right).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PUSH_LIMITS } from '../../src/formats/loki-push/index.js';
import { RecordChecker } from '../../src/formats/record-check.js';

const now = BigInt(Date.now()) * 1_000_000n;
const labels = { app: 'a' };

/** An attributes object that counts how often its names are listed (what measuring it does). */
function counted(values: Record<string, string>): { attrs: Record<string, string>; reads: () => number } {
  let n = 0;
  const attrs = new Proxy(values, {
    ownKeys(t) {
      n++;
      return Reflect.ownKeys(t);
    },
  });
  return { attrs, reads: () => n };
}

test('interleaved shared attributes are measured once or twice each, not once per record', () => {
  const checker = new RecordChecker({ ...DEFAULT_PUSH_LIMITS, allowStructuredMetadata: true }, now);
  const units = [
    counted({ unit: 'a.service' }),
    counted({ unit: 'b.service' }),
    counted({ unit: 'c.service' }),
  ];
  for (let i = 0; i < 300; i++) {
    const u = units[i % 3]!;
    assert.equal(checker.check({ labels, timestamp: now, body: 'x', attributes: u.attrs }), undefined);
  }
  for (const u of units) assert.ok(u.reads() <= 2, `measured ${u.reads()} times`);
});

test('one-off attributes are each measured and checked: too large is refused', () => {
  const checker = new RecordChecker(
    { ...DEFAULT_PUSH_LIMITS, allowStructuredMetadata: true, maxStructuredMetadataSize: 20 },
    now,
  );
  for (let i = 0; i < 50; i++) {
    const small = checker.check({ labels, timestamp: now, body: 'x', attributes: { n: String(i) } });
    assert.equal(small, undefined);
    const big = checker.check({ labels, timestamp: now, body: 'x', attributes: { n: 'y'.repeat(30 + i) } });
    assert.equal(big?.reason, 'structured_metadata');
  }
});
