/**
 * LogQL end to end on the real server: pipelines in log queries (filtering, parsing, formatting,
 * limits applied after the pipeline), Loki's categorize-labels encoding, and range metric queries.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  allValues,
  http,
  pushJson,
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const SEC = 1_000_000_000n;
const BASE = ((BigInt(Date.now()) * 1_000_000n) / 60n / SEC) * 60n * SEC - 10n * 60n * SEC; // a whole minute, 10 min ago

describe('LogQL end to end', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess();
    const values: [string, string, Record<string, string>?][] = [];
    for (let i = 0; i < 60; i++) {
      const level = i % 3 === 0 ? 'error' : 'info';
      values.push([
        (BASE + BigInt(i) * SEC).toString(),
        JSON.stringify({ level, msg: `request ${i}`, status: 200 + (i % 5) }),
      ]);
    }
    values.push([(BASE + 61n * SEC).toString(), 'not json at all']);
    const kata = Array.from({ length: 10 }, (_, i): [string, string] => [
      (BASE + BigInt(i) * 6n * SEC).toString(),
      `time="2026-11-23T10:00:0${i}Z" level=${i < 4 ? 'warning' : 'info'} msg="sandbox ${i}" pid=${100 + i} source=virtcontainers`,
    ]);
    const r = await pushJson(server.url, {
      streams: [
        { stream: { app: 'api', namespace: 'shop' }, values },
        { stream: { app: 'kata', node: 'n1' }, values: kata },
        {
          stream: { app: 'meta', namespace: 'shop' },
          values: [[(BASE + 5n * SEC).toString(), 'with metadata', { trace_id: 't1' }]],
        },
      ],
    });
    assert.equal(r.status, 204, r.text);
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  const range = { start: (BASE - SEC).toString(), end: (BASE + 120n * SEC).toString() };
  const lines = async (query: string, extra: Record<string, string> = {}) =>
    allValues(await queryRange(server.url, { query, limit: '1000', ...range, ...extra })).map((v) => v[1]);

  test('| json | level="error" keeps the error lines; parsed labels join the stream', async () => {
    const got = await lines('{app="api"} | json | level="error"');
    assert.equal(got.length, 20);
    const res = await queryRange(server.url, {
      query: '{app="api"} | json | level="error"',
      limit: '1',
      ...range,
    });
    assert.equal(res.data.result[0]!.stream.level, 'error');
    assert.equal(res.data.result[0]!.stream.app, 'api');
  });

  test('limit counts entries after the pipeline', async () => {
    const got = await lines('{app="api"} | json | status >= 203', { limit: '5', direction: 'forward' });
    assert.deepEqual(
      got.map((l) => (JSON.parse(l) as { msg: string }).msg),
      ['request 3', 'request 4', 'request 8', 'request 9', 'request 13'],
    );
  });

  test('logfmt, line_format and label filters on numbers', async () => {
    const got = await lines(
      '{app="kata"} | logfmt | level="warning" and pid > 101 | line_format "{{.msg}} ({{.pid}})"',
      {
        direction: 'forward',
      },
    );
    assert.deepEqual(got, ['sandbox 2 (102)', 'sandbox 3 (103)']);
  });

  test('parse errors are kept with __error__, and can be filtered', async () => {
    const errs = await queryRange(server.url, {
      query: '{app="api"} | json | __error__!=""',
      limit: '10',
      ...range,
    });
    const stream = errs.data.result[0]!;
    assert.equal(stream.stream.__error__, 'JSONParserErr');
    assert.deepEqual(
      stream.values.map((v) => v[1]),
      ['not json at all'],
    );
    assert.equal((await lines('{app="api"} | json | __error__=""')).length, 60);
  });

  test('categorize-labels: stream labels apart from metadata and parsed labels', async () => {
    const q = new URLSearchParams({ query: '{namespace="shop"} | json', limit: '100', ...range });
    const r = await http(`${server.url}/loki/api/v1/query_range?${q}`, {
      headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' },
    });
    assert.equal(r.status, 200, r.text);
    const body = JSON.parse(r.text) as {
      data: {
        encodingFlags: string[];
        result: {
          stream: Record<string, string>;
          values: [string, string, Record<string, Record<string, string>>][];
        }[];
      };
    };
    assert.deepEqual(body.data.encodingFlags, ['categorize-labels']);
    const meta = body.data.result.find((s) => s.stream.app === 'meta')!;
    // Metadata is not a stream label in this form.
    assert.deepEqual(meta.stream, { app: 'meta', namespace: 'shop', kind: 'log', class: 'application' });
    assert.deepEqual(meta.values[0]![2].structuredMetadata, { trace_id: 't1' });
    const api = body.data.result.find((s) => s.stream.app === 'api')!;
    const parsed = api.values.find((v) => v[1].includes('"request 1"'))![2].parsed!;
    assert.deepEqual(parsed, { level: 'info', msg: 'request 1', status: '201' });
  });

  test('range metric queries answer a matrix at each step', async () => {
    const q = new URLSearchParams({
      query: 'sum by (level) (count_over_time({app="api"} | json | __error__="" [1m]))',
      start: (BASE + 60n * SEC).toString(),
      end: (BASE + 60n * SEC).toString(),
      step: '60',
    });
    const r = await http(`${server.url}/loki/api/v1/query_range?${q}`);
    assert.equal(r.status, 200, r.text);
    const body = JSON.parse(r.text) as {
      data: { resultType: string; result: { metric: object; values: [number, string][] }[] };
    };
    assert.equal(body.data.resultType, 'matrix');
    const byLevel = Object.fromEntries(
      body.data.result.map((s) => [(s.metric as { level: string }).level, s.values[0]![1]]),
    );
    // The window (BASE, BASE + 60 s] holds entries 1..59: 19 errors (i % 3 === 0) and 40 infos.
    assert.deepEqual(byLevel, { error: '19', info: '40' });
  });

  test('a query over too long a range is a 400 naming the limit', async () => {
    const q = new URLSearchParams({
      query: 'count_over_time({app="api"}[1m])',
      start: '0',
      end: range.end,
      step: '60',
    });
    const r = await http(`${server.url}/loki/api/v1/query_range?${q}`);
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /limit|length|resolution/);
  });
});
