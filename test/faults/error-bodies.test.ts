/**
 * An unexpected error's answer carries no record contents, file paths or SQL: DuckDB's errors quote
 * the line they failed on (one 500 body carried another namespace's record and the data path). The
 * client gets an id; the server's log has the details under it. On every API: Loki, kube, korrel8r.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_SERVER_CONFIG, type RunningServer, startServer } from '../../src/server/app.js';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import type { Store } from '../../src/store/store.js';
import { Logger } from '../../src/util/log.js';

const SECRET = 'card=4111-1111-1111-1111';
const LEAK =
  `Conversion Error: CSV Error on Line: 7 Original Line: 0\u001f3\u001f9\u001f1\u001f1\u001f\u001f0\u001f${SECRET} ` +
  'in /var/lib/kjournal/data/wal/000000000004.wal2: SELECT stream FROM read_csv(...)';

/** A real store whose reads fail with an error text full of what must not leak. */
function leakyStore(inner: Store): Store {
  const fail = (): never => {
    throw new Error(LEAK);
  };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'entries') {
        return async function* () {
          yield* [];
          fail();
        };
      }
      if (prop === 'count' || prop === 'countByStream' || prop === 'countByBucket' || prop === 'streams') {
        return async () => fail();
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

let dir: string;
let srv: RunningServer;
const logged: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kj-error-bodies-'));
  const store = leakyStore(new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000, log: () => {} }));
  srv = await startServer({
    ...DEFAULT_SERVER_CONFIG,
    port: 0,
    dataDir: dir,
    store,
    log: (line) => logged.push(line),
  });
});

after(async () => {
  await srv.close();
  await rm(dir, { recursive: true, force: true });
});

const paths = [
  ['loki query_range', `/loki/api/v1/query_range?query=${encodeURIComponent('{app="a"}')}`],
  [
    'loki metric',
    `/loki/api/v1/query_range?query=${encodeURIComponent('count_over_time({app="a"}[1m])')}&step=60`,
  ],
  ['loki series', `/loki/api/v1/series?match[]=${encodeURIComponent('{app="a"}')}`],
  ['korrel8r', `/api/v1/korrel8r/logs?query=${encodeURIComponent('log:application:{"namespace":"a"}')}`],
  ['kube list', '/apis/core.kjournal/v1alpha1/namespaces/a/containerlogs'],
] as const;

for (const [what, path] of paths) {
  test(`${what}: a 500 says what failed in general terms, with an id the log has, and nothing of the record`, async () => {
    const res = await fetch(`${srv.url}${path}`);
    const body = await res.text();
    assert.equal(res.status, 500, body);
    // The error's id is the request's (X-Request-Id), which the server's one line of it carries.
    const id = res.headers.get('x-kjournal-error-id');
    assert.match(id ?? '', /^[0-9a-f]{16}$/);
    assert.equal(res.headers.get('x-request-id'), id);
    assert.ok(body.includes(`internal error ${id}`), body);
    for (const leak of [SECRET, '/var/lib', 'wal2', 'SELECT', 'read_csv', 'Original Line']) {
      assert.ok(!body.includes(leak), `the body holds ${JSON.stringify(leak)}: ${body}`);
    }
    const lines = logged.filter((l) => l.includes(`request_id=${id} `));
    assert.equal(lines.length, 1, `one line of the failure: ${logged.join('\n')}`);
    assert.ok(lines[0]!.startsWith('internal error '), lines[0]);
    assert.ok(lines[0]!.includes(SECRET), 'the log has the details under the id');
    assert.ok(!lines[0]!.includes('\n'), 'on one line');
  });
}

test('--log-format json: the internal error is one JSON line at error, under the request id the client got', async () => {
  const jdir = await mkdtemp(join(tmpdir(), 'kj-error-json-'));
  const lines: string[] = [];
  const store = leakyStore(new DuckDbStore({ dir: jdir, maintenanceIntervalMs: 3_600_000, log: () => {} }));
  const jsrv = await startServer({
    ...DEFAULT_SERVER_CONFIG,
    port: 0,
    dataDir: jdir,
    store,
    logger: new Logger({ format: 'json', level: 'info', write: (l) => lines.push(l) }),
  });
  try {
    const res = await fetch(`${jsrv.url}${paths[0][1]}`, { headers: { 'x-request-id': 'client-chosen-1' } });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-request-id'), 'client-chosen-1');
    assert.equal(res.headers.get('x-kjournal-error-id'), 'client-chosen-1');
    const mine = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((o) => o.request_id === 'client-chosen-1');
    assert.equal(mine.length, 1, lines.join(''));
    assert.equal(mine[0]!.level, 'error');
    assert.equal(mine[0]!.msg, 'internal error');
    assert.equal(mine[0]!.status, 500);
    assert.equal(mine[0]!.route, 'loki_api_v1_query_range');
    assert.ok(String(mine[0]!.err).includes(SECRET), 'the details are in the log');
  } finally {
    await jsrv.close();
    await rm(jdir, { recursive: true, force: true });
  }
});
