/**
 * Deletion and retention end to end, against the real server process: Loki's delete API (the
 * lines a request selects leave every query at once, a cancelled request gives them back, a
 * processed one has removed them from disk, also across a restart) and `kjournal retention test`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { runCli } from '../cli/fake-loki.js';
import {
  http,
  pushJson,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const S = 1_000_000_000n;

describe('deletion and retention', () => {
  let server: ServerProcess;
  let dir: string;
  const now = BigInt(Date.now()) * 1_000_000n;
  const t = now - 3600n * S;

  const lines = async (query: string): Promise<string[]> => {
    const r = await http(
      `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query, start: String(t - 60n * S), limit: '100', direction: 'forward' })}`,
    );
    assert.equal(r.status, 200, r.text);
    return (JSON.parse(r.text) as { data: { result: { values: [string, string][] }[] } }).data.result
      .flatMap((s) => s.values)
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map((v) => v[1]);
  };
  const del = (method: string, params: Record<string, string>) =>
    http(`${server.url}/loki/api/v1/delete?${new URLSearchParams(params)}`, { method });
  const seconds = (ns: bigint) => String(ns / S);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kj-lifecycle-'));
    server = await startServerProcess({ args: ['--delete-request-cancel-period', '2s'] });
    const r = await pushJson(server.url, {
      streams: [
        {
          stream: { namespace: 'shop', pod: 'web-1' },
          values: [
            [String(t), 'order 1 card=4111-1111'],
            [String(t + 1n), 'order 1 paid'],
            [String(t + 2n), 'order 2 card=5500-0000'],
          ],
        },
        { stream: { namespace: 'bank', pod: 'core-1' }, values: [[String(t + 3n), 'bank card=1234']] },
      ],
    });
    assert.equal(r.status, 204, r.text);
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
    await rm(dir, { recursive: true, force: true });
  });

  test("bad requests get Loki's answers", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ start: seconds(t) }, /query not set/],
      [{ query: '{namespace="shop"}' }, /start time not set/],
      [
        { query: '{namespace="shop"}', start: 'yesterday' },
        /invalid start time: require unix seconds or RFC3339 format/,
      ],
      [
        { query: '{namespace="shop"}', start: seconds(t), end: seconds(now + 3600n * S) },
        /deletes in the future are not allowed/,
      ],
      [
        { query: '{namespace="shop"}', start: seconds(t), end: seconds(t - 100n * S) },
        /start time can't be greater than end time/,
      ],
      [{ query: 'count_over_time({namespace="shop"}[1m])', start: seconds(t) }, /log selector/],
      [{ query: '{namespace="shop"} | json', start: seconds(t) }, /stream selector and line filters only/],
    ];
    for (const [params, want] of cases) {
      const r = await del('POST', params);
      assert.equal(r.status, 400, `${JSON.stringify(params)}: ${r.text}`);
      assert.match(r.text, want);
    }
    const cancel = await del('DELETE', { request_id: 'nope' });
    assert.equal(cancel.status, 404);
    assert.match(cancel.text, /could not find delete request with given id/);
  });

  test('a request hides its lines at once; a cancelled one gives them back', async () => {
    const r = await del('POST', { query: '{pod="core-1"}', start: seconds(t - S) });
    assert.equal(r.status, 204, r.text);
    assert.deepEqual(await lines('{pod=~".+"}'), [
      'order 1 card=4111-1111',
      'order 1 paid',
      'order 2 card=5500-0000',
    ]);
    const listed = JSON.parse((await del('GET', {})).text) as {
      request_id: string;
      status: string;
      query: string;
    }[];
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.status, 'received');
    assert.equal(listed[0]?.query, '{pod="core-1"}');
    const c = await del('DELETE', { request_id: listed[0]!.request_id });
    assert.equal(c.status, 204, c.text);
    assert.equal((await lines('{pod=~".+"}')).length, 4, 'back after the cancel');
  });

  test('a processed request has removed its lines from disk, for good', async () => {
    const r = await del('POST', {
      query: '{namespace="shop"} |= "card="',
      start: seconds(t - S),
      end: seconds(now),
    });
    assert.equal(r.status, 204, r.text);
    assert.deepEqual(await lines('{pod=~".+"}'), ['order 1 paid', 'bank card=1234']);
    // Processed once its cancel period (2s) has passed.
    for (let i = 0; i < 60; i++) {
      const listed = JSON.parse((await del('GET', {})).text) as { status: string }[];
      if (listed.every((x) => x.status === 'processed')) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    const listed = JSON.parse((await del('GET', {})).text) as {
      status: string;
      start_time: number;
      end_time: number;
    }[];
    assert.deepEqual(
      listed.map((x) => x.status),
      ['processed'],
    );
    assert.equal(listed[0]!.start_time, Number(seconds(t - S)), 'Unix seconds, as model.Time prints them');
    const cancel = await del('DELETE', {
      request_id: (listed[0] as unknown as { request_id: string }).request_id,
    });
    assert.equal(cancel.status, 400);
    assert.match(cancel.text, /deletion of request which is in process or already processed is not allowed/);
    await server.stop();
    // On disk: no part and no log segment holds the deleted lines any more.
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const parts = (
      await db.runAndReadAll(
        `SELECT count(*) FROM read_parquet('${server.dataDir}/parts/*/*/*.parquet') WHERE contains(body, 'card=') AND NOT contains(body, 'bank')`,
      )
    ).getRows();
    assert.equal(Number(parts[0]![0]), 0);
    const all = (
      await db.runAndReadAll(`SELECT count(*) FROM read_parquet('${server.dataDir}/parts/*/*/*.parquet')`)
    ).getRows();
    assert.equal(Number(all[0]![0]), 2, 'the other lines are all there');
    db.closeSync();
    server = await startServerProcess({
      dataDir: server.dataDir,
      args: ['--delete-request-cancel-period', '2s'],
    });
    assert.deepEqual(await lines('{pod=~".+"}'), ['order 1 paid', 'bank card=1234']);
  });

  test('kjournal retention test reports what each rule would remove', async () => {
    const r = await pushJson(server.url, {
      streams: [
        {
          stream: { namespace: 'dev', pod: 'x' },
          values: [[String(now - 30n * 3600n * S), 'dev, 30 hours old']],
        },
        {
          stream: { kind: 'auditevent', verb: 'get' },
          values: [[String(now - 30n * 3600n * S), '{"auditID":"a"}']],
        },
      ],
    });
    assert.equal(r.status, 204, r.text);
    const file = join(dir, 'retention.yaml');
    await writeFile(
      file,
      [
        'retention: 30d',
        'retentionStream:',
        '  - selector: \'{namespace="dev"}\'',
        '    period: 1d',
        '    priority: 1',
        '  - selector: \'{kind="auditevent"}\'',
        '    period: 1y',
        '    priority: 2',
        '',
      ].join('\n'),
    );
    const out = await runCli(['retention', 'test', file, '--server', server.url]);
    assert.equal(out.code, 0, out.stderr);
    const rows = out.stdout.trim().split('\n');
    assert.match(rows[0]!, /^RULE\s+SELECTOR\s+PERIOD\s+PRIORITY\s+STREAMS\s+ENTRIES\s+BYTES$/);
    assert.match(out.stdout, /\n0\s+\{namespace="dev"\}\s+1d\s+1\s+1\s+1\s+17\n/);
    assert.match(out.stdout, /would remove 1 entries, 17 bytes of lines/);
    const bad = await runCli(['retention', 'test', join(dir, 'nope.yaml'), '--server', server.url]);
    assert.notEqual(bad.code, 0);
  });
});
