/**
 * The server's /metrics as a scraper reads it (issue 19 item 4): HTTP requests by route, method and
 * code, their durations, kjournal_build_info, and every kjournal_ name following Prometheus'
 * naming conventions. A real `kjournal serve`, scraped over HTTP.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { type Exposition, namingProblem, parseExposition, sum } from '../helpers/exposition.js';
import {
  CLI,
  http,
  pushJson,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

/**
 * prom-client's default Node.js metrics (kjournal_-prefixed): three gauges it names with `_total`,
 * as every Node.js exporter has them and Node.js dashboards query them. Not ours to rename; only
 * these three are let through.
 */
const PROM_CLIENT_GAUGES_NAMED_TOTAL = new Set([
  'kjournal_nodejs_active_handles_total',
  'kjournal_nodejs_active_requests_total',
  'kjournal_nodejs_active_resources_total',
]);

describe('kjournal serve: /metrics', () => {
  let server: ServerProcess;
  const scrape = async (): Promise<Exposition> => {
    const r = await http(`${server.url}/metrics`);
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(r.text);
  };

  before(async () => {
    server = await startServerProcess();
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  test('requests are counted by route, method and code, and timed by route and method', async () => {
    const before = await scrape();
    const now = BigInt(Date.now()) * 1_000_000n;
    const push = await pushJson(server.url, {
      streams: [{ stream: { app: 'metrics' }, values: [[now.toString(), 'a line']] }],
    });
    assert.equal(push.status, 204, push.text);
    const query = await http(
      `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app="metrics"}' })}`,
    );
    assert.equal(query.status, 200, query.text);
    const bad = await http(
      `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app=' })}`,
    );
    assert.equal(bad.status, 400, bad.text);
    // Paths no route serves: one label value, whatever the path.
    for (const path of ['/no/such/path', '/another-one', '/x?y=1']) {
      assert.equal((await http(`${server.url}${path}`)).status, 404);
    }
    const after = await scrape();

    const delta = (labels: Record<string, string>) =>
      sum(after, 'kjournal_http_requests_total', labels) -
      sum(before, 'kjournal_http_requests_total', labels);
    assert.equal(delta({ route: 'loki_api_v1_push', method: 'POST', code: '204' }), 1);
    assert.equal(delta({ route: 'loki_api_v1_query_range', method: 'GET', code: '200' }), 1);
    assert.equal(delta({ route: 'loki_api_v1_query_range', method: 'GET', code: '400' }), 1);
    assert.equal(delta({ route: 'other', method: 'GET', code: '404' }), 3);
    // The scrape before was counted too (once this one is answered, it is in the next).
    assert.equal(delta({ route: 'metrics', method: 'GET', code: '200' }), 1);
    // No raw path ever became a label value.
    const routes = new Set(
      after.samples.filter((s) => s.name === 'kjournal_http_requests_total').map((s) => s.labels.route),
    );
    for (const r of routes) assert.match(r!, /^[a-z0-9_]+$/, `route label ${r}`);
    assert.ok(!routes.has('no_such_path'));

    // The histogram: one observation per request, in the bucket for +Inf, with a sum of seconds.
    const count = (e: Exposition, route: string, method: string) =>
      sum(e, 'kjournal_http_request_duration_seconds_count', { route, method });
    assert.equal(
      count(after, 'loki_api_v1_query_range', 'GET') - count(before, 'loki_api_v1_query_range', 'GET'),
      2,
    );
    assert.equal(count(after, 'loki_api_v1_push', 'POST') - count(before, 'loki_api_v1_push', 'POST'), 1);
    assert.equal(
      sum(after, 'kjournal_http_request_duration_seconds_bucket', {
        route: 'loki_api_v1_push',
        method: 'POST',
        le: '+Inf',
      }),
      count(after, 'loki_api_v1_push', 'POST'),
    );
    const seconds = sum(after, 'kjournal_http_request_duration_seconds_sum', { route: 'loki_api_v1_push' });
    assert.ok(seconds > 0 && seconds < 30, `push seconds ${seconds}`);
    // No code label on the histogram: its series stay few.
    assert.ok(
      after.samples
        .filter((s) => s.name.startsWith('kjournal_http_request_duration_seconds'))
        .every((s) => !('code' in s.labels)),
    );
  });

  test('a WebSocket tail counts as 101 on its route', async () => {
    const before = sum(await scrape(), 'kjournal_http_requests_total', {
      route: 'loki_api_v1_tail',
      code: '101',
    });
    const ws = new WebSocket(
      `${server.url.replace('http', 'ws')}/loki/api/v1/tail?${new URLSearchParams({ query: '{app="metrics"}' })}`,
    );
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.close();
    const after = sum(await scrape(), 'kjournal_http_requests_total', {
      route: 'loki_api_v1_tail',
      code: '101',
    });
    assert.equal(after - before, 1);
  });

  test('kjournal_build_info is 1 with the version `kjournal --version` prints and the Node.js version', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, '--version']);
    const info = (await scrape()).samples.filter((s) => s.name === 'kjournal_build_info');
    assert.equal(info.length, 1);
    assert.equal(info[0]!.value, 1);
    assert.equal(info[0]!.labels.version, stdout.trim());
    assert.equal(info[0]!.labels.nodejs_version, process.version);
    // The commit when known (this checkout's HEAD, or a REVISION file), else "unknown".
    assert.match(info[0]!.labels.revision ?? '', /^([0-9a-f]{7,64}|unknown)$/);
  });

  test("every kjournal_ metric follows Prometheus' naming conventions", async () => {
    const e = await scrape();
    const ours = [...e.types].filter(([name]) => name.startsWith('kjournal_'));
    assert.ok(ours.length > 20, `families: ${ours.length}`);
    const problems = ours
      .filter(([name]) => !PROM_CLIENT_GAUGES_NAMED_TOTAL.has(name))
      .map(([name, type]) => [name, type, namingProblem(name, type)] as const)
      .filter(([, , p]) => p !== undefined);
    assert.deepEqual(problems, []);
    // Every sample belongs to a declared family (histograms' _bucket, _sum and _count).
    for (const s of e.samples) {
      const family = s.name.replace(/_(bucket|sum|count)$/, '');
      assert.ok(e.types.has(s.name) || e.types.has(family), `no TYPE for ${s.name}`);
    }
  });

  test('the conventions check catches what it is for', () => {
    assert.equal(namingProblem('kjournal_pushes', 'counter'), 'a counter without _total');
    assert.equal(
      namingProblem('kjournal_request_duration', 'histogram'),
      'a histogram without a unit suffix',
    );
    assert.equal(namingProblem('kjournal_queueLength', 'gauge'), 'not snake_case');
    assert.equal(namingProblem('kjournal_latency_ms', 'gauge'), 'not in base units');
    assert.equal(namingProblem('kjournal_open_total', 'gauge'), 'a gauge named like a counter');
    assert.equal(namingProblem('kjournal_nodejs_heap_size_total_bytes', 'gauge'), undefined);
    assert.equal(namingProblem('kjournal_http_requests_total', 'counter'), undefined);
  });
});
