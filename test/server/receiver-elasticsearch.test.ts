/**
 * The Elasticsearch bulk receiver (issue 17) with its real peer, the official client
 * `@elastic/elasticsearch` (its bulk helper and `bulk`), against a real server process: documents
 * shaped as Fluent Bit's kubernetes filter and ViaQ write them become labelled records; per-item
 * results with `errors: true`; a malformed request is refused whole.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import {
  allValues,
  http,
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

describe('Elasticsearch bulk receiver with @elastic/elasticsearch', () => {
  let server: ServerProcess;
  let client: Client;
  before(async () => {
    server = await startServerProcess();
    client = new Client({ node: server.url });
  });
  after(async () => {
    await client.close();
    await server.stop();
    await removeDir(server.dataDir);
  });

  test('the client accepts the probes: info, license-free ping', async () => {
    const info = await client.info();
    assert.equal(info.version.number.split('.')[0], '8');
    assert.equal(await client.ping(), true);
    const head = await fetch(`${server.url}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('x-elastic-product'), 'Elasticsearch');
    const tpl = await client.indices.putIndexTemplate({ name: 'logs', index_patterns: ['logs-*'] });
    assert.equal(tpl.acknowledged, true);
  });

  test('bulk helper: Fluent Bit and ViaQ documents become labelled records', async () => {
    const now = Date.now();
    const docs = [
      {
        '@timestamp': new Date(now - 3000).toISOString(),
        log: 'GET /cart 200',
        stream: 'stdout',
        kubernetes: {
          namespace_name: 'shop-es',
          pod_name: 'cart-5c7d',
          container_name: 'web',
          host: 'node-a',
          labels: { app: 'cart' },
        },
      },
      {
        '@timestamp': new Date(now - 2000).toISOString(),
        message: 'payment declined',
        level: 'warn',
        log_type: 'application',
        kubernetes: { namespace_name: 'shop-es', pod_name: 'pay-1', container_name: 'pay' },
      },
      { time: String((now - 1000) * 1000), msg: 'plain host line', host: 'node-b' },
    ];
    const stats = await client.helpers.bulk({
      datasource: docs,
      onDocument: () => ({ index: { _index: 'app-logs' } }),
    });
    assert.equal(stats.failed, 0);
    assert.equal(stats.successful, 3);
    const back = await queryRange(server.url, {
      query: '{namespace="shop-es"}',
      limit: '10',
      direction: 'forward',
    });
    assert.deepEqual(
      allValues(back).map((v) => v[1]),
      ['GET /cart 200', 'payment declined'],
    );
    const cart = back.data.result.find(
      (s) => s.stream.pod === undefined && s.stream.kubernetes_pod_name === 'cart-5c7d',
    );
    assert.ok(cart, JSON.stringify(back.data.result.map((s) => s.stream)));
    assert.equal(cart.stream.kubernetes_container_name, 'web');
    assert.equal(cart.stream.kubernetes_host, 'node-a');
    assert.equal(cart.stream.index, 'app-logs');
    assert.equal(cart.stream.kind, 'containerlog');
    assert.equal(cart.stream.kubernetes_labels_app, 'cart');
    assert.equal(cart.stream.stream, 'stdout');
    const host = await queryRange(server.url, { query: '{index="app-logs"} |= "plain host"', limit: '10' });
    assert.deepEqual(
      allValues(host).map((v) => v[1]),
      ['plain host line'],
    );
    // `time` in epoch microseconds, told apart by size.
    assert.equal(allValues(host)[0]![0], String(BigInt(now - 1000) * 1_000_000n));
  });

  test('per-item results: refused items have their status and errors is true; the rest is stored', async () => {
    const res = await client.bulk({
      operations: [
        { index: { _index: 'mixed' } },
        { message: 'good one' },
        { create: { _index: 'mixed', _id: 'x1' } },
        { message: 'too new', '@timestamp': new Date(Date.now() + 86_400_000).toISOString() },
        { delete: { _index: 'mixed', _id: 'x1' } },
      ],
    });
    assert.equal(res.errors, true);
    assert.equal(res.items.length, 3);
    assert.equal(res.items[0]!.index!.status, 201);
    assert.equal(res.items[1]!.create!.status, 400);
    assert.equal(res.items[1]!.create!._id, 'x1');
    assert.match(String(res.items[1]!.create!.error!.reason), /timestamp too new/);
    assert.equal(res.items[2]!.delete!.status, 400);
    const back = await queryRange(server.url, { query: '{index="mixed"}', limit: '10' });
    assert.deepEqual(
      allValues(back).map((v) => v[1]),
      ['good one'],
    );
  });

  test('a malformed action line refuses the whole request in Elasticsearch form, nothing stored', async () => {
    const r = await http(`${server.url}/broken/_bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: '{"index":{}}\n{"message":"should not be stored"}\n{"explode":{}}\n{"message":"x"}\n',
    });
    assert.equal(r.status, 400);
    const body = JSON.parse(r.text) as { error: { type: string; reason: string }; status: number };
    assert.equal(body.status, 400);
    assert.match(body.error.reason, /Malformed action\/metadata line \[3\]/);
    const back = await queryRange(server.url, { query: '{index="broken"}', limit: '10' });
    assert.deepEqual(allValues(back), []);
  });

  test('counters for protocol elasticsearch', async () => {
    const m = await http(`${server.url}/metrics`);
    assert.match(m.text, /kjournal_receiver_records_total\{protocol="elasticsearch",result="accepted"\} 4/);
    assert.match(m.text, /kjournal_receiver_records_total\{protocol="elasticsearch",result="refused"\} 2/);
  });

  test('bounds per item, as the mapping limits of Elasticsearch: too deep or too many fields refuses the document alone; a long line is scanned before it is parsed', async () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 25; i++) deep = { d: deep };
    const wide = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`f${i}`, i]));
    const longDeep = `{"message":"x","pad":"${'p'.repeat(70_000)}","x":${'['.repeat(1001)}${']'.repeat(1001)}}`;
    const lines = [
      '{"create":{"_index":"bounds"}}',
      JSON.stringify({ message: 'kept before' }),
      '{"create":{"_index":"bounds"}}',
      JSON.stringify({ message: 'too deep', deep }),
      '{"create":{"_index":"bounds"}}',
      JSON.stringify({ message: 'too wide', ...wide }),
      '{"create":{"_index":"bounds"}}',
      longDeep,
      '{"create":{"_index":"bounds"}}',
      JSON.stringify({ message: 'kept after', nested: { a: { b: { c: 'ok' } } } }),
    ];
    const r = await http(`${server.url}/_bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: `${lines.join('\n')}\n`,
    });
    assert.equal(r.status, 200, r.text);
    const res = JSON.parse(r.text) as {
      errors: boolean;
      items: { create: { status: number; error?: { type: string; reason: string } } }[];
    };
    assert.equal(res.errors, true);
    assert.deepEqual(
      res.items.map((i) => i.create.status),
      [201, 400, 400, 400, 201],
    );
    assert.match(res.items[1]!.create.error!.reason, /Limit of mapping depth \[20\] has been exceeded/);
    assert.match(res.items[2]!.create.error!.reason, /Limit of total fields \[1000\] has been exceeded/);
    assert.match(
      res.items[3]!.create.error!.reason,
      /JSON nesting depth exceeds the maximum allowed \(1000\)/,
    );
    const back = await queryRange(server.url, {
      query: '{index="bounds"}',
      limit: '10',
      direction: 'forward',
    });
    assert.deepEqual(
      allValues(back).map((v) => v[1]),
      ['kept before', 'kept after'],
    );
    // A long action line past the bounds refuses the request, nothing stored.
    const bad = await http(`${server.url}/_bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: `{"create":{"_index":"bounds2","pad":"${'p'.repeat(70_000)}","x":${'['.repeat(1001)}${']'.repeat(1001)}}}\n{"message":"no"}\n`,
    });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /JSON nesting depth exceeds the maximum allowed \(1000\)/);
    const none = await queryRange(server.url, { query: '{index="bounds2"}', limit: '10' });
    assert.deepEqual(allValues(none), []);
  });

  test('created items are answered as Elasticsearch does: a fresh 20-character id each, their own id kept, seq_no in order', async () => {
    const ops: Record<string, unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      ops.push(
        i === 7
          ? { create: { _index: 'größe', _id: 'own "id"' } }
          : { create: { _index: i % 2 ? 'a' : 'größe' } },
      );
      ops.push({ message: `answer line ${i}` });
    }
    const r = await http(`${server.url}/_bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: `${ops.map((o) => JSON.stringify(o)).join('\n')}\n`,
    });
    assert.equal(r.status, 200);
    const res = JSON.parse(r.text) as {
      errors: boolean;
      items: {
        create: {
          _index: string;
          _id: string;
          result: string;
          _seq_no: number;
          status: number;
          _version: number;
        };
      }[];
    };
    assert.equal(res.errors, false);
    assert.equal(res.items.length, 300);
    const ids = new Set<string>();
    res.items.forEach((item, i) => {
      const c = item.create;
      assert.equal(c._index, i === 7 || i % 2 === 0 ? 'größe' : 'a');
      assert.equal(c.status, 201);
      assert.equal(c.result, 'created');
      assert.equal(c._version, 1);
      assert.equal(c._seq_no, i);
      if (i === 7) assert.equal(c._id, 'own "id"');
      else assert.match(c._id, /^[A-Za-z0-9_-]{20}$/);
      ids.add(c._id);
    });
    assert.equal(ids.size, 300, 'every id is distinct');
  });
});
