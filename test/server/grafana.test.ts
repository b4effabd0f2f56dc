/**
 * Grafana's Loki data source health check (pkg/tsdb/loki/healthcheck.go): an instant query of
 * `vector(1)+vector(1)` over the time range 1s-4s, which must answer one sample with the value 2.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { http, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

describe('Grafana Loki data source health check', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess();
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  for (const prefix of ['', '/api/logs/v1/application']) {
    test(`instant vector(1)+vector(1) answers 2 (${prefix || '/'})`, async () => {
      const q = new URLSearchParams({
        query: 'vector(1)+vector(1)',
        time: '4000000000',
        limit: '1000',
        direction: 'backward',
      });
      const r = await http(`${server.url}${prefix}/loki/api/v1/query?${q}`);
      assert.equal(r.status, 200, r.text);
      const body = JSON.parse(r.text) as { status: string; data: { resultType: string; result: unknown[] } };
      assert.equal(body.status, 'success');
      assert.equal(body.data.resultType, 'vector');
      // Loki reads an integer of up to 10 digits as seconds, so the sample is stamped 4e9 s; Grafana
      // checks only the value.
      assert.deepEqual(body.data.result, [{ metric: {}, value: [4_000_000_000, '2'] }]);
    });
  }

  test('labels, which older Grafana versions test with, answer as Loki', async () => {
    const r = await http(`${server.url}/loki/api/v1/labels?start=1000000000&end=4000000000`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { status: 'success' });
  });
});
