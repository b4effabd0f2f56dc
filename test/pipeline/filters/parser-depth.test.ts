import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonFormat } from '../../../src/pipeline/filters/parser-formats.js';

test('the json parser filter takes a line nested beyond 1,000 levels as unparsable, not a stack overflow', () => {
  const parse = jsonFormat();
  const deepObject = `{"a":${'{"b":'.repeat(20_000)}1${'}'.repeat(20_001)}`;
  assert.deepEqual(parse(deepObject), { error: 'JSON nesting depth exceeds the maximum allowed (1000)' });
  const deepArray = `{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
  assert.deepEqual(parse(deepArray), { error: 'JSON nesting depth exceeds the maximum allowed (1000)' });
  // 1,000 levels are still flattened.
  const ok = parse(`${'{"b":'.repeat(999)}1${'}'.repeat(999)}`);
  assert.ok('values' in ok && ok.values.length === 1 && ok.values[0]![1] === '1');
});
