import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grepFilter } from '../../../src/pipeline/filters/grep.js';
import { build, rec, throwsConfig } from './helpers.js';

const grep = (options: unknown) => build(grepFilter, 'grep', options);

// filter_grep's documentation example; `message` is the body.
const DOC = grep({
  regexp: [
    { key: 'message', pattern: '/cool/' },
    { key: 'hostname', pattern: '/^web\\d+\\.example\\.com$/' },
  ],
  exclude: [{ key: 'message', pattern: '/uncool/' }],
});

test('the documentation example: all regexps must match and no exclude', () => {
  const r = (message: string | undefined, hostname: string | undefined) =>
    rec({ body: message ?? '', attributes: hostname === undefined ? {} : { hostname } });
  const ok = r("It's cool outside today", 'web001.example.com');
  assert.equal(DOC.apply(ok), ok);
  assert.equal(DOC.apply(r("That's not cool", 'web1337.example.org')), null);
  assert.equal(DOC.apply(r('I am cool but you are uncool', 'db001.example.com')), null);
  assert.equal(DOC.apply(r('I am cool but you are uncool', 'web001.example.com')), null);
  assert.equal(DOC.apply(r("It's cool outside today", undefined)), null, 'a missing key does not match');
});

test('a missing key passes an exclude; labels can be matched', () => {
  const f = grep({
    exclude: [{ key: 'level', pattern: '^debug$' }],
    regexp: [{ key: 'labels.namespace', pattern: 'prod' }],
  });
  const noLevel = rec({ labels: { namespace: 'shop-prod' }, body: 'x' });
  assert.equal(f.apply(noLevel), noLevel);
  assert.equal(f.apply(rec({ labels: { namespace: 'shop-prod' }, attributes: { level: 'debug' } })), null);
  assert.equal(f.apply(rec({ labels: { namespace: 'shop-dev' } })), null);
});

test('patterns are unanchored and take the i flag', () => {
  const f = grep({ regexp: [{ key: 'body', pattern: '/ERROR/i' }] });
  assert.notEqual(f.apply(rec({ body: 'an error happened' })), null);
  assert.equal(f.apply(rec({ body: 'all fine' })), null);
});

test('bad options are ConfigErrors naming the field', () => {
  throwsConfig(() => grep({}), 'grep', ['regexp'], /at least one/);
  throwsConfig(
    () => grep({ regexp: [{ key: 'a', pattern: '(' }] }),
    'grep',
    ['regexp', 0, 'pattern'],
    /invalid regular/,
  );
  throwsConfig(() => grep({ exclude: [{ pattern: 'x' }] }), 'grep', ['exclude', 0, 'key'], /is required/);
  throwsConfig(
    () => grep({ regexp: [{ key: 'a', pattern: '/x/x' }] }),
    'grep',
    ['regexp', 0, 'pattern'],
    /flag/,
  );
  throwsConfig(
    () => grep({ regexp: [{ key: 'a', pattern: 'x', invert: true }] }),
    'grep',
    ['regexp', 0, 'invert'],
    /unknown/,
  );
  throwsConfig(() => grep({ regexp: { key: 'a' } }), 'grep', ['regexp'], /must be a list/);
});
