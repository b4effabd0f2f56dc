// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the filters' templates are written ${field}, as in YAML.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordFilter } from '../../../src/pipeline/filters/record.js';
import { build, kept, rec, throwsConfig } from './helpers.js';

const record = (options: unknown) => build(recordFilter, 'record', options);

test('set: templates read fields, labels and the body (record_transformer <record>)', () => {
  const f = record({
    set: {
      hostname: 'web1',
      path: '${labels.namespace}/${pod}',
      line: '[${level}] ${body}',
      'labels.team': 'payments',
      price: '$$${cost}',
      nothing: '<${missing}>',
    },
  });
  const out = kept(
    f,
    rec({
      labels: { namespace: 'shop' },
      attributes: { pod: 'cart-1', level: 'warn', cost: '3' },
      body: 'low stock',
    }),
  );
  assert.deepEqual(out.attributes, {
    pod: 'cart-1',
    level: 'warn',
    cost: '3',
    hostname: 'web1',
    path: 'shop/cart-1',
    line: '[warn] low stock',
    price: '$3',
    nothing: '<>',
  });
  assert.equal(out.labels.team, 'payments');
  assert.equal(out.labels.namespace, 'shop');
  assert.equal(out.body, 'low stock');
});

test('set: every template reads the record as it came in', () => {
  const out = kept(
    record({ set: { a: '${b}', b: 'new', body: '${b}!' } }),
    rec({ attributes: { b: 'old' }, body: 'x' }),
  );
  assert.deepEqual(out.attributes, { a: 'old', b: 'new' });
  assert.equal(out.body, 'old!');
});

test('set: message names the body unless an attribute has that name', () => {
  const out = kept(record({ set: { message: 'rewritten' } }), rec({ body: 'orig' }));
  assert.equal(out.body, 'rewritten');
  assert.deepEqual(out.attributes, {});
  const attr = kept(
    record({ set: { message: 'rewritten' } }),
    rec({ attributes: { message: 'm' }, body: 'orig' }),
  );
  assert.equal(attr.body, 'orig');
  assert.equal(attr.attributes.message, 'rewritten');
});

test('rename moves a value; a missing source does nothing; the body can be renamed away', () => {
  const f = record({ rename: { msg: 'message', lvl: 'level', body: 'original', absent: 'x' } });
  const out = kept(f, rec({ attributes: { msg: 'hello', lvl: 'info', level: 'old' }, body: 'raw' }));
  // msg → message puts "hello" in the body; then body → original moves it to an attribute.
  assert.deepEqual(out.attributes, { level: 'info', original: 'hello' });
  assert.equal(out.body, '');
});

test('removeKeys removes attributes, labels and the body', () => {
  const f = record({ removeKeys: ['password', 'labels.pod', 'body', 'nope'] });
  const out = kept(f, rec({ labels: { pod: 'p' }, attributes: { password: 'x', user: 'u' }, body: 'line' }));
  assert.deepEqual(out.attributes, { user: 'u' });
  assert.equal(out.labels.pod, undefined);
  assert.equal(out.labels.kind, 'containerlog');
  assert.equal(out.body, '');
});

test('keepKeys keeps only the listed attributes (and body when listed); labels stay', () => {
  const r = rec({ labels: { pod: 'p' }, attributes: { a: '1', b: '2', c: '3' }, body: 'line' });
  const noBody = kept(record({ keepKeys: ['a'] }), r);
  assert.deepEqual(noBody.attributes, { a: '1' });
  assert.equal(noBody.body, '');
  assert.equal(noBody.labels.pod, 'p');
  const withBody = kept(record({ keepKeys: ['a', 'message'] }), r);
  assert.equal(withBody.body, 'line');
});

test('the order is set, rename, removeKeys, keepKeys; written fields survive keepKeys', () => {
  const f = record({
    set: { x: '${a}+', y: 'gone' },
    rename: { x: 'z' },
    removeKeys: ['y', 'b'],
    keepKeys: ['c'],
  });
  const out = kept(f, rec({ attributes: { a: '1', b: '2', c: '3', d: '4' }, body: 'line' }));
  assert.deepEqual(out.attributes, { c: '3', z: '1+' });
  assert.equal(out.body, '');
});

test('a filter that changes nothing gives back the same record object', () => {
  const r = rec({ attributes: { a: '1' }, body: 'x' });
  assert.equal(record({ removeKeys: ['missing'] }).apply(r), r);
  assert.equal(record({ set: { a: '1' } }).apply(r), r);
  assert.equal(record({}).apply(r), r);
});

test('bad options are ConfigErrors naming the field', () => {
  throwsConfig(() => record({ set: { a: '${b' } }), 'record', ['set', 'a'], /unclosed/);
  throwsConfig(() => record({ set: { 'a.b': 'x' } }), 'record', ['set', 'a.b'], /not safe/);
  throwsConfig(() => record({ set: { a: { b: 1 } } }), 'record', ['set', 'a'], /must be a string/);
  throwsConfig(() => record({ set: { a: '${}' } }), 'record', ['set', 'a'], /field name/);
  throwsConfig(() => record({ rename: { a: 'b c' } }), 'record', ['rename', 'a'], /not safe/);
  throwsConfig(
    () => record({ removeKeys: ['a', { b: 1 }] }),
    'record',
    ['removeKeys', 1],
    /must be a string/,
  );
  throwsConfig(() => record({ keepKeys: 'labels.' }), 'record', ['keepKeys', 0], /must name a label/);
  throwsConfig(() => record({ remove_keys: ['a'] }), 'record', ['remove_keys'], /unknown field/);
});
