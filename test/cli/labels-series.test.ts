/**
 * `kjournal labels` and `kjournal series` against a throwaway Loki-shaped server.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type FakeLoki, ok, runCli, startFakeLoki } from './fake-loki.js';

const SERIES = [
  { container: 'app', namespace: 'shop', pod: 'checkout-1' },
  { container: 'app', namespace: 'shop', pod: 'checkout-2' },
  { container: 'db', namespace: 'shop', pod: 'pg-0' },
];

let loki: FakeLoki;
before(async () => {
  loki = await startFakeLoki({
    '/loki/api/v1/labels': () => ok(['container', 'namespace', 'pod']),
    '/loki/api/v1/label/pod/values': () => ok(['checkout-1', 'checkout-2', 'pg-0']),
    '/loki/api/v1/label/none/values': () => ok(null),
    '/loki/api/v1/series': () => ok(SERIES),
  });
});
after(() => loki.close());

test('labels: the names, one per line; with NAME, its values', async () => {
  let r = await runCli(['labels', '--server', loki.url, '--since', '2h']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'container\nnamespace\npod\n');
  assert.match(r.stderr, /^http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/labels\?start=\d+&end=\d+\n$/);
  const sent = loki.requests.at(-1)!;
  assert.equal(
    BigInt(sent.searchParams.get('end')!) - BigInt(sent.searchParams.get('start')!),
    7_200_000_000_000n,
  );

  r = await runCli(['labels', 'pod', '--server', loki.url, '-q', '--query', '{namespace="shop"}']);
  assert.equal(r.stdout, 'checkout-1\ncheckout-2\npg-0\n');
  assert.equal(r.stderr, '');
  assert.equal(loki.requests.at(-1)!.searchParams.get('query'), '{namespace="shop"}');

  r = await runCli(['labels', 'none', '--server', loki.url, '-q']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');

  r = await runCli(['labels', '--server', loki.url, '-q', '-o', 'json']);
  assert.deepEqual(JSON.parse(r.stdout), { status: 'success', data: ['container', 'namespace', 'pod'] });

  r = await runCli(['labels', 'missing', '--server', loki.url, '-q']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'kjournal: values of missing failed: HTTP 404: 404 page not found\n');
});

test('series: label sets as logcli prints them, and --analyze-labels', async () => {
  let r = await runCli(['series', '{namespace="shop"}', '--server', loki.url, '-q']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      '{container="app", namespace="shop", pod="checkout-1"}',
      '{container="app", namespace="shop", pod="checkout-2"}',
      '{container="db", namespace="shop", pod="pg-0"}',
      '',
    ].join('\n'),
  );
  assert.deepEqual(loki.requests.at(-1)!.searchParams.getAll('match[]'), ['{namespace="shop"}']);

  r = await runCli(['series', '{}', '--server', loki.url, '-q', '--analyze-labels']);
  assert.equal(
    r.stdout,
    [
      'Total Streams:  3',
      'Unique Labels:  3',
      '',
      'Label Name  Unique Values  Found In Streams',
      'pod         3              3',
      'container   2              3',
      'namespace   1              3',
      '',
    ].join('\n'),
  );
  // `{}` means every stream: no match[] at all.
  assert.deepEqual(loki.requests.at(-1)!.searchParams.getAll('match[]'), []);

  r = await runCli(['series', '{}', '--server', 'http://127.0.0.1:1', '-q']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^kjournal: cannot reach http:\/\/127\.0\.0\.1:1\/: .*\n$/);
});
