/**
 * Backpressure on the HTTP receivers: while the journal refuses writes (here: free space under
 * `--min-free-disk 100%`, which nothing ever satisfies), each answers its protocol's "retry later"
 * with Retry-After before reading the body, and stores nothing: OTLP 503 with a google.rpc.Status
 * UNAVAILABLE (the OpenTelemetry exporters retry 503, not the Loki push's 507), Elasticsearch 429
 * `es_rejected_execution_exception` (what its clients and shippers retry), the journal upload 503.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

describe('HTTP receivers when the journal cannot take writes', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({ args: ['--min-free-disk', '100%'] });
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  test('OTLP answers 503 with Retry-After and Status UNAVAILABLE', async () => {
    const r = await fetch(`${server.url}/otlp/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceLogs":[]}',
    });
    assert.equal(r.status, 503);
    assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
    const status = (await r.json()) as { code: number; message: string };
    assert.equal(status.code, 14);
    assert.match(status.message, /insufficient storage/);
  });

  test('Elasticsearch bulk answers 429 es_rejected_execution_exception with Retry-After', async () => {
    const r = await fetch(`${server.url}/_bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: '{"index":{"_index":"x"}}\n{"message":"m"}\n',
    });
    assert.equal(r.status, 429);
    assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(r.headers.get('x-elastic-product'), 'Elasticsearch');
    const body = (await r.json()) as { error: { type: string }; status: number };
    assert.equal(body.error.type, 'es_rejected_execution_exception');
    assert.equal(body.status, 429);
  });

  test('journal upload answers 503 with Retry-After', async () => {
    const r = await fetch(`${server.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.fdo.journal' },
      body: `__REALTIME_TIMESTAMP=${Date.now() * 1000}\nMESSAGE=m\n\n`,
    });
    assert.equal(r.status, 503);
    assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
  });
});
