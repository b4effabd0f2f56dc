// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the filters' templates are written ${field}, as in YAML.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rewriteFilter } from '../../../src/pipeline/filters/rewrite.js';
import { build, kept, rec, throwsConfig } from './helpers.js';

const rewrite = (options: unknown) => build(rewriteFilter, 'rewrite', options);

test('the documentation basic example: $1.${tag}', () => {
  const f = rewrite({ rules: [{ key: 'message', pattern: '/^\\[(\\w+)\\]/', tag: '$1.${tag}' }] });
  for (const level of ['info', 'warn', 'crit']) {
    const out = kept(f, rec({ labels: { route: 'app.component' }, body: `[${level}]: ...` }));
    assert.equal(out.labels.route, `${level}.app.component`);
    assert.equal(out.body, `[${level}]: ...`);
  }
  assert.equal(
    f.apply(rec({ labels: { route: 'app.component' }, body: 'no level' })),
    null,
    'unmatched: dropped',
  );
});

// The documentation's full example, in order, first match wins.
const SITES = rewrite({
  capitalizeRegexBackreference: true,
  rules: [
    { key: 'path', pattern: '/\\.(gif|jpe?g|png|pdf|zip)$/', tag: 'clear' },
    { key: 'status', pattern: '/^200$/', tag: 'clear', invert: true },
    { key: 'domain', pattern: '/^.+\\.com$/', tag: 'clear', invert: true },
    { key: 'domain', pattern: '/^maps\\.example\\.com$/', tag: 'site.ExampleMaps' },
    { key: 'domain', pattern: '/^(mail)\\.(example)\\.com$/', tag: 'site.$2$1' },
    { key: 'domain', pattern: '/.+/', tag: 'site.unmatched' },
  ],
});

test('the documentation example: invert, order and capitalised back-references', () => {
  const route = (attributes: Record<string, string>) => kept(SITES, rec({ attributes })).labels.route;
  assert.equal(route({ path: '/a.png', status: '200', domain: 'maps.example.com' }), 'clear');
  assert.equal(route({ path: '/', status: '404', domain: 'maps.example.com' }), 'clear');
  assert.equal(route({ path: '/', status: '200', domain: 'example.org' }), 'clear');
  assert.equal(route({ path: '/', status: '200', domain: 'maps.example.com' }), 'site.ExampleMaps');
  assert.equal(route({ path: '/', status: '200', domain: 'mail.example.com' }), 'site.ExampleMail');
  assert.equal(route({ path: '/', status: '200', domain: 'www.example.com' }), 'site.unmatched');
  // A missing status: the inverted rule on an empty value matches (the plugin's rule).
  assert.equal(route({ path: '/', domain: 'maps.example.com' }), 'clear');
});

test('seed 003: split Kata shimv2 entries from containerd ones', () => {
  const f = rewrite({
    rules: [
      { key: 'syslog_identifier', pattern: 'kata', tag: 'kata_tag' },
      { key: 'message', pattern: '/.+/', tag: 'containerd_tag' },
    ],
  });
  const r = (id: string, body: string) => f.apply(rec({ attributes: { syslog_identifier: id }, body }));
  assert.equal(r('kata', 'level=info msg="x"')?.labels.route, 'kata_tag');
  assert.equal(r('containerd', 'starting containerd')?.labels.route, 'containerd_tag');
  assert.equal(r('containerd', ''), null, 'a missing or empty field skips a rule; nothing matched: dropped');
});

test('keepUnmatched, another label, ${tag_parts[n]} and __TAG__', () => {
  const f = rewrite({
    label: 'flow',
    keepUnmatched: true,
    rules: [{ key: 'level', pattern: 'error', tag: 'alert.${tag_parts[-1]}.__TAG__' }],
  });
  const r = rec({ labels: { flow: 'app.web' }, attributes: { level: 'info' } });
  assert.equal(f.apply(r), r, 'kept unchanged');
  const out = kept(f, rec({ labels: { flow: 'app.web' }, attributes: { level: 'error' } }));
  assert.equal(out.labels.flow, 'alert.web.app.web');
  const none = kept(f, rec({ attributes: { level: 'error' } }));
  assert.equal(none.labels.flow, 'alert..', 'no current label: empty placeholders');
});

test('bad options are ConfigErrors naming the field', () => {
  throwsConfig(() => rewrite({}), 'rewrite', ['rules'], /at least one rule/);
  throwsConfig(
    () => rewrite({ rules: [{ key: 'a', pattern: 'x' }] }),
    'rewrite',
    ['rules', 0, 'tag'],
    /is required/,
  );
  throwsConfig(
    () => rewrite({ rules: [{ key: 'a', pattern: '[', tag: 't' }] }),
    'rewrite',
    ['rules', 0, 'pattern'],
    /invalid/,
  );
  throwsConfig(
    () => rewrite({ rules: [{ key: 'a', pattern: 'x', tag: 't', invert: 'yes' }] }),
    'rewrite',
    ['rules', 0, 'invert'],
    /true or false/,
  );
  throwsConfig(() => rewrite({ label: 'my-route', rules: [] }), 'rewrite', ['label'], /safe label/);
  throwsConfig(
    () => rewrite({ rules: [{ key: 'a', pattern: 'x', tag: 't' }], keep_unmatched: true }),
    'rewrite',
    ['keep_unmatched'],
    /unknown/,
  );
});
