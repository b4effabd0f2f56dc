import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FILTERS } from '../../../src/pipeline/filters/index.js';
import { build, rec } from './helpers.js';

test('the registry holds every filter type under its configuration name', () => {
  assert.deepEqual(Object.keys(FILTERS).sort(), [
    'auditPolicy',
    'dedupe',
    'grep',
    'kata',
    'parser',
    'record',
    'rewrite',
    'throttle',
  ]);
  assert.ok(Object.isFrozen(FILTERS));
  for (const [type, factory] of Object.entries(FILTERS)) assert.equal(typeof factory, 'function', type);
});

test('each built filter reports its own type', () => {
  const options: Record<string, unknown> = {
    parser: { format: 'json' },
    record: {},
    grep: { regexp: [{ key: 'body', pattern: 'x' }] },
    rewrite: { rules: [{ key: 'body', pattern: 'x', tag: 't' }] },
    throttle: {},
    dedupe: {},
    kata: {},
  };
  for (const [type, o] of Object.entries(options)) {
    const factory = FILTERS[type];
    assert.ok(factory, type);
    const f = build(factory, type, o);
    assert.equal(f.type, type);
    assert.notEqual(f.apply(rec({ body: 'x' })), undefined);
  }
});
