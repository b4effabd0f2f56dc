/**
 * `kjournal query` against a throwaway Loki-shaped server: every output format, exactly; paging;
 * colour; metric results; the korrel8r path; --follow over the tail WebSocket; errors.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type FakeLoki, ok, runCli, startFakeLoki } from './fake-loki.js';

const ESC = '\u001b';
const ns = (rfc: string): string => `${BigInt(Date.parse(rfc)) * 1_000_000n}`;
const T1 = ns('2026-11-23T10:00:01Z');
const T2 = `${BigInt(ns('2026-11-23T10:00:02Z')) + 123_456_789n}`;
const T3 = ns('2026-11-23T10:00:03Z');

const STREAMS = [
  {
    stream: { namespace: 'shop', pod: 'checkout-1', container: 'app' },
    values: [
      [T3, 'payment timeout after 3s', { trace_id: 'abc123' }],
      [T1, '  started  '],
    ],
  },
  {
    stream: { namespace: 'shop', pod: 'checkout-22', container: 'app' },
    values: [[T2, 'second pod']],
  },
];
const RANGE = { status: 'success', data: { resultType: 'streams', result: STREAMS } };

let loki: FakeLoki;
const q = (...args: string[]): string[] => ['query', '--server', loki.url, '-z', 'UTC', ...args];

before(async () => {
  loki = await startFakeLoki({ '/loki/api/v1/query_range': () => ({ body: RANGE }) });
});
after(() => loki.close());

test('default output: time, the labels that differ, padded, and the trimmed line, newest first', async () => {
  const r = await runCli(q('{namespace="shop"}'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      '2026-11-23T10:00:03Z {pod="checkout-1"}  payment timeout after 3s',
      '2026-11-23T10:00:02Z {pod="checkout-22"} second pod',
      '2026-11-23T10:00:01Z {pod="checkout-1"}  started',
      '',
    ].join('\n'),
  );
  // Not a terminal: no colour. The request and the common labels go to stderr.
  assert.ok(!(r.stdout + r.stderr).includes(ESC), 'no escape sequences');
  assert.match(
    r.stderr,
    /^http:\/\/127\.0\.0\.1:\d+\/loki\/api\/v1\/query_range\?query=\{namespace="shop"\}&limit=30&/,
  );
  assert.match(r.stderr, /\nCommon labels: \{container="app", namespace="shop"\}\n$/);
  const sent = loki.requests.at(-1)!;
  assert.equal(sent.searchParams.get('limit'), '30');
  assert.equal(sent.searchParams.get('direction'), 'backward');
  const span = BigInt(sent.searchParams.get('end')!) - BigInt(sent.searchParams.get('start')!);
  // The one default window of every reading command (src/cli/window.ts), not logcli's hour.
  assert.equal(span, 86_400_000_000_000n);
});

test('--forward, --quiet, raw, jsonl, wide and json', async () => {
  let r = await runCli(q('{namespace="shop"}', '-o', 'raw', '--forward', '-q'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, '  started  \nsecond pod\npayment timeout after 3s\n');
  assert.equal(loki.requests.at(-1)!.searchParams.get('direction'), 'forward');

  r = await runCli(q('{namespace="shop"}', '-o', 'jsonl', '-q'));
  assert.equal(
    r.stdout,
    [
      '{"labels":{"container":"app","namespace":"shop","pod":"checkout-1"},"line":"payment timeout after 3s","metadata":{"trace_id":"abc123"},"timestamp":"2026-11-23T10:00:03Z"}',
      '{"labels":{"container":"app","namespace":"shop","pod":"checkout-22"},"line":"second pod","timestamp":"2026-11-23T10:00:02.123456789Z"}',
      '{"labels":{"container":"app","namespace":"shop","pod":"checkout-1"},"line":"  started  ","timestamp":"2026-11-23T10:00:01Z"}',
      '',
    ].join('\n'),
  );

  r = await runCli(q('{namespace="shop"}', '-o', 'wide', '-q'));
  assert.equal(
    r.stdout,
    [
      '2026-11-23T10:00:03Z {container="app", namespace="shop", pod="checkout-1"}  trace_id="abc123" payment timeout after 3s',
      '2026-11-23T10:00:02.123456789Z {container="app", namespace="shop", pod="checkout-22"} second pod',
      '2026-11-23T10:00:01Z {container="app", namespace="shop", pod="checkout-1"}  started',
      '',
    ].join('\n'),
  );

  r = await runCli(q('{namespace="shop"}', '-o', 'json', '-q'));
  assert.equal(r.stdout, `${JSON.stringify(RANGE, null, 2)}\n`);

  r = await runCli(q('{namespace="shop"}', '--no-labels', '-q'));
  assert.equal(r.stdout.split('\n')[0], '2026-11-23T10:00:03Z payment timeout after 3s');
});

test('colour: --color forces it, --no-color and NO_COLOR refuse it', async () => {
  let r = await runCli(q('{namespace="shop"}', '-q', '--color'));
  assert.equal(
    r.stdout.split('\n')[0],
    '\u001b[34m2026-11-23T10:00:03Z\u001b[39m \u001b[31m{pod="checkout-1"} \u001b[39m payment timeout after 3s',
  );
  // A colour per stream, the same in every run: the other pod's stream is magenta.
  assert.ok(
    r.stdout.split('\n')[1]!.endsWith(`${ESC}[35m{pod="checkout-22"}${ESC}[39m second pod`),
    r.stdout,
  );
  r = await runCli(q('{namespace="shop"}', '-q', '--no-color'), { env: { FORCE_COLOR: '1' } });
  assert.ok(!r.stdout.includes(ESC), r.stdout);
  r = await runCli(q('{namespace="shop"}', '-q'), { env: { NO_COLOR: '1' } });
  assert.ok(!r.stdout.includes(ESC), r.stdout);
  r = await runCli(q('{namespace="shop"}', '-q'), { env: { FORCE_COLOR: '1' } });
  assert.ok(r.stdout.includes(`${ESC}[34m`), r.stdout);
});

test('paging: --limit above --batch pages like logcli, repeating the last timestamp and skipping what was printed', async () => {
  // Five entries, two of them at the same time; the fake server applies start, end, limit, direction.
  const all: [string, string][] = [
    [ns('2026-11-23T10:00:05Z'), 'e5'],
    [ns('2026-11-23T10:00:04Z'), 'e4b'],
    [ns('2026-11-23T10:00:04Z'), 'e4a'],
    [ns('2026-11-23T10:00:02Z'), 'e2'],
    [ns('2026-11-23T10:00:01Z'), 'e1'],
  ];
  const paging = await startFakeLoki({
    '/loki/api/v1/query_range': (url) => {
      const p = url.searchParams;
      const start = BigInt(p.get('start')!);
      const end = BigInt(p.get('end')!);
      const forward = p.get('direction') === 'forward';
      let vals = all.filter(([t]) => BigInt(t) >= start && BigInt(t) <= end);
      if (forward) vals = vals.reverse();
      vals = vals.slice(0, Number(p.get('limit')));
      return ok({ resultType: 'streams', result: [{ stream: { app: 'a' }, values: vals }] });
    },
  });
  try {
    const args = ['query', '{app="a"}', '--server', paging.url, '-o', 'raw', '-q', '--batch', '2'];
    let r = await runCli([...args, '--from', '2026-11-23T10:00:00Z', '--to', '2026-11-23T10:00:10Z']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'e5\ne4b\ne4a\ne2\ne1\n');
    assert.deepEqual(
      paging.requests.map((u) => [u.searchParams.get('limit'), u.searchParams.get('end')]),
      [
        ['2', ns('2026-11-23T10:00:10Z')],
        ['3', ns('2026-11-23T10:00:04Z')],
        // Two entries where three were asked for: the server has no more.
        ['3', ns('2026-11-23T10:00:02Z')],
      ],
    );
    paging.requests.length = 0;
    r = await runCli([...args, '--limit', '3', '--forward', '--from', '2026-11-23T10:00:00Z']);
    assert.equal(r.stdout, 'e1\ne2\ne4a\n');
    assert.deepEqual(
      paging.requests.map((u) => u.searchParams.get('limit')),
      ['2', '2'],
    );
    // -o json over several pages: one answer holding what was printed.
    r = await runCli([
      ...args.filter((a) => a !== 'raw' && a !== '-o'),
      '-o',
      'json',
      '--limit',
      '3',
      '--from',
      '2026-11-23T10:00:00Z',
    ]);
    const merged = JSON.parse(r.stdout) as { data: { result: { values: string[][] }[] } };
    assert.deepEqual(
      merged.data.result[0]!.values.map((v) => v[1]),
      ['e5', 'e4b', 'e4a'],
    );
  } finally {
    await paging.close();
  }
});

test('metric queries: a matrix over the range with --step, a vector with --instant, as a table', async () => {
  const metric = await startFakeLoki({
    '/loki/api/v1/query_range': () =>
      ok({
        resultType: 'matrix',
        result: [
          {
            metric: { pod: 'checkout-1' },
            values: [
              [1795428000, '2'],
              [1795428060, '10'],
            ],
          },
          { metric: { pod: 'checkout-22' }, values: [[1795428000, '1']] },
        ],
      }),
    '/loki/api/v1/query': () =>
      ok({
        resultType: 'vector',
        result: [{ metric: { pod: 'checkout-1' }, value: [1795428000.5, '0.25'] }],
      }),
  });
  try {
    const query = 'sum by (pod) (count_over_time({namespace="shop"}[1m]))';
    let r = await runCli(['query', query, '--server', metric.url, '-z', 'UTC', '-q', '--step', '1m']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'TIMESTAMP             VALUE  SERIES',
        '2026-11-23T10:00:00Z      2  {pod="checkout-1"}',
        '2026-11-23T10:01:00Z     10  {pod="checkout-1"}',
        '2026-11-23T10:00:00Z      1  {pod="checkout-22"}',
        '',
      ].join('\n'),
    );
    assert.equal(metric.requests.at(-1)!.searchParams.get('step'), '1m');
    r = await runCli(['query', query, '--server', metric.url, '-z', 'UTC', '-q', '--instant', '-o', 'jsonl']);
    assert.equal(
      r.stdout,
      '{"metric":{"pod":"checkout-1"},"timestamp":"2026-11-23T10:00:00Z","value":"0.25"}\n',
    );
    assert.equal(metric.requests.at(-1)!.pathname, '/loki/api/v1/query');
    assert.match(metric.requests.at(-1)!.searchParams.get('time')!, /^\d{19}$/);
    r = await runCli(['query', query, '--server', metric.url, '-q', '--instant', '-o', 'raw']);
    assert.equal(r.stdout, '{pod="checkout-1"} 0.25 1795428000.5\n');
  } finally {
    await metric.close();
  }
});

test('korrel8r: a log: query goes to /api/v1/korrel8r/logs and its log objects are printed', async () => {
  const logs = [
    {
      body: 'older',
      timestamp: '2026-11-23T10:00:01Z',
      observed_timestamp: '2026-11-23T10:00:01.1Z',
      kubernetes_namespace_name: 'shop',
      kubernetes_pod_name: 'checkout-1',
    },
    {
      body: 'newer',
      timestamp: '2026-11-23T10:00:02.5Z',
      observed_timestamp: '2026-11-23T10:00:02.6Z',
      kubernetes_namespace_name: 'shop',
      kubernetes_pod_name: 'checkout-2',
    },
  ];
  const k = await startFakeLoki({ '/api/v1/korrel8r/logs': () => ({ body: logs }) });
  try {
    const query = 'log:application:{"namespace":"shop"}';
    let r = await runCli(['query', query, '--server', k.url, '-z', 'UTC']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        '2026-11-23T10:00:02Z {kubernetes_pod_name="checkout-2"} newer',
        '2026-11-23T10:00:01Z {kubernetes_pod_name="checkout-1"} older',
        '',
      ].join('\n'),
    );
    assert.match(r.stderr, /Common labels: \{kubernetes_namespace_name="shop"\}/);
    const sent = k.requests.at(-1)!;
    assert.equal(sent.pathname, '/api/v1/korrel8r/logs');
    assert.equal(sent.searchParams.get('query'), query);
    assert.equal(sent.searchParams.get('limit'), '30');
    r = await runCli(['query', query, '--server', k.url, '-q', '-o', 'raw', '--forward']);
    assert.equal(r.stdout, 'older\nnewer\n');
    r = await runCli(['query', query, '--server', k.url, '-q', '-o', 'jsonl', '--limit', '1']);
    assert.equal(r.stdout, `${JSON.stringify(logs[1])}\n`);
    r = await runCli(['query', query, '--server', k.url, '-q', '-o', 'json']);
    assert.deepEqual(JSON.parse(r.stdout), logs);
  } finally {
    await k.close();
  }
});

test('--follow prints tail frames as they come, in the chosen format, until interrupted', async () => {
  const tail = await startFakeLoki();
  tail.onTail = (ws) => {
    ws.send(
      JSON.stringify({
        streams: [{ stream: { app: 'a', pod: 'p1' }, values: [[T1, 'first']] }],
        dropped_entries: null,
      }),
    );
    setTimeout(() => {
      ws.send(
        JSON.stringify({
          streams: [{ stream: { app: 'a', pod: 'p22' }, values: [[T2, 'second']] }],
          dropped_entries: [{ labels: { app: 'a' }, timestamp: T1 }],
        }),
      );
    }, 50);
  };
  try {
    const r = await runCli(
      [
        'query',
        '{app="a"}',
        '--server',
        tail.url,
        '-z',
        'UTC',
        '-q',
        '--follow',
        '--tenant',
        't1',
        '--delay-for',
        '2',
      ],
      {
        onOutput: (text, kill) => {
          if (text.includes('second')) kill('SIGINT');
        },
      },
    );
    // Interrupted: 130 (README "Exit codes").
    assert.equal(r.code, 130, r.stderr);
    assert.equal(
      r.stdout,
      '2026-11-23T10:00:01Z {app="a", pod="p1"} first\n2026-11-23T10:00:02Z {app="a", pod="p22"} second\n',
    );
    assert.match(r.stderr, /dropped 1 entries/);
    const sent = tail.requests.at(-1)!;
    assert.equal(sent.pathname, '/loki/api/v1/tail');
    assert.equal(sent.searchParams.get('query'), '{app="a"}');
    assert.equal(sent.searchParams.get('delay_for'), '2');
    assert.equal(tail.headers.at(-1)!['x-scope-orgid'], 't1');

    // A server that closes normally ends the command; -o jsonl.
    tail.onTail = (ws) => {
      ws.send(JSON.stringify({ streams: [{ stream: { app: 'a' }, values: [[T1, 'only']] }] }));
      setTimeout(() => ws.close(1000), 50);
    };
    const j = await runCli([
      'query',
      '{app="a"}',
      '--server',
      tail.url,
      '-z',
      'UTC',
      '-q',
      '-f',
      '-o',
      'jsonl',
    ]);
    assert.equal(j.code, 0, j.stderr);
    assert.equal(j.stdout, '{"labels":{"app":"a"},"line":"only","timestamp":"2026-11-23T10:00:01Z"}\n');

    // The server refuses the upgrade: one line with its reason.
    tail.onTail = undefined;
    const e = await runCli(['query', '{app="a"}', '--server', tail.url, '-f']);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /\nkjournal: tail failed: HTTP 400: no tail here\n$/);
  } finally {
    await tail.close();
  }
});

test('errors: a refused query, an unreachable server, bad flags: non-zero, one line', async () => {
  const bad = await startFakeLoki({
    '/loki/api/v1/query_range': () => ({
      status: 400,
      body: 'parse error at line 1, col 18: syntax error: unexpected end of input\n',
    }),
  });
  try {
    const r = await runCli(['query', '{app="a"', '--server', bad.url, '-q']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'kjournal: query failed: HTTP 400: parse error at line 1, col 18: syntax error: unexpected end of input\n',
    );
  } finally {
    await bad.close();
  }
  const down = await runCli(['query', '{app="a"}', '--server', 'http://127.0.0.1:1', '-q']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^kjournal: cannot reach http:\/\/127\.0\.0\.1:1\/: .*ECONNREFUSED.*\n$/);

  const cases: [string[], RegExp][] = [
    [['--from', 'yesterday'], /^kjournal: --from must be an RFC 3339 time/],
    [['--since', 'forever'], /^kjournal: --since must be a duration/],
    [
      ['--from', '2026-11-23T10:00:00Z', '--to', '2026-11-23T09:00:00Z'],
      /^kjournal: --to must not be before --from\n$/,
    ],
    [['-z', 'Mars/Olympus'], /^kjournal: --timezone must be local or UTC/],
    [['--step', 'often'], /^kjournal: --step must be a duration/],
    [['--limit', 'lots'], /--limit.*must be a non-negative integer/],
    [['-o', 'yaml'], /-o, --output.*yaml.*invalid/],
  ];
  for (const [extra, re] of cases) {
    const res = await runCli(['query', '{app="a"}', '--server', 'http://127.0.0.1:1', ...extra]);
    assert.notEqual(res.code, 0, extra.join(' '));
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr);
    assert.match(res.stderr, re);
  }
  const metricFollow = await runCli(['query', 'rate({app="a"}[1m])', '-f', '--server', 'http://127.0.0.1:1']);
  assert.equal(metricFollow.code, 2);
  assert.equal(metricFollow.stderr, 'kjournal: --follow needs a log query, not a metric query\n');
});
