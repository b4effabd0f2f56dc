/**
 * `kjournal serve --clickhouse-url` when ClickHouse is not as it should be (issue 16, "bad input and
 * faults"), each against a private clickhouse-server 18.16: unreachable at start (serve starts, says
 * so in one line, 503 with Retry-After and a failing /ready until ClickHouse comes, then serves);
 * a wrong password, a user without rights on the database and a schema from a newer kjournal (one
 * line naming the cause, exit code 2); an insert ClickHouse refuses (503 with Retry-After and its
 * reason); a query ClickHouse refuses (400 with its reason) or that
 * runs past the query timeout (504, and KILLed in ClickHouse), never a stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ClickHouseProcess, startClickHouse } from '../helpers/clickhouse.js';
import { chSql, nsNow, startClickHouseServe } from '../helpers/clickhouse-e2e.js';
import { CLI, http, pushJson, removeDir, type ServerProcess } from '../helpers/server-process.js';

/** Rows of the slow query's stream. */
const ROWS = 4_000_000;

/** Runs `kjournal serve` expecting it to exit; its code and stderr. */
async function serveExit(
  args: readonly string[],
  dataDir: string,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--listen', '127.0.0.1:0', '--data', dataDir, ...args],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr };
}

/** users.d: `kj` (password `right`) with every right, `stranger` (password `pw`) limited to the database `elsewhere`. */
const USERS_D = `<?xml version="1.0"?>
<yandex>
  <profiles>
    <limited>
      <max_rows_to_read>20000</max_rows_to_read>
    </limited>
    <one_thread>
      <max_threads>1</max_threads>
    </one_thread>
  </profiles>
  <users>
    <kj>
      <password>right</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </kj>
    <stranger>
      <password>pw</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <allow_databases><database>elsewhere</database></allow_databases>
    </stranger>
    <limited>
      <password>pw</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>limited</profile>
      <quota>default</quota>
    </limited>
    <slow>
      <password>pw</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>one_thread</profile>
      <quota>default</quota>
    </slow>
  </users>
</yandex>
`;

describe('serve on a ClickHouse that is not as it should be', () => {
  let ch: ClickHouseProcess;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kj-chfaults-'));
    await writeFile(join(dir, 'kjournal-users.xml'), USERS_D);
    await writeFile(join(dir, 'right'), 'right\n');
    await writeFile(join(dir, 'wrong'), 'wrong\n');
    await writeFile(join(dir, 'pw'), 'pw\n');
    ch = await startClickHouse({ usersD: [join(dir, 'kjournal-users.xml')] });
  });
  after(async () => {
    await ch?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const expectSetupExit = async (args: string[], cause: RegExp) => {
    const data = await mkdtemp(join(tmpdir(), 'kj-chfaults-data-'));
    try {
      const r = await serveExit(['--clickhouse-url', ch.url, ...args], data);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `one line: ${r.stderr}`);
      assert.match(lines[0]!, cause);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      await removeDir(data);
    }
  };

  test('a wrong password: one line naming the credentials, exit 2', async () => {
    await expectSetupExit(
      ['--clickhouse-user', 'kj', '--clickhouse-password-file', join(dir, 'wrong')],
      /^kjournal: ClickHouse at http:\/\/127\.0\.0\.1:\d+ refused the credentials: .*(password|kj)/i,
    );
  });

  test('a user without rights on the database: one line naming the rights, exit 2', async () => {
    await expectSetupExit(
      ['--clickhouse-user', 'stranger', '--clickhouse-password-file', join(dir, 'pw')],
      /^kjournal: ClickHouse at http:\/\/127\.0\.0\.1:\d+ denied access: .*kjournal/,
    );
  });

  test('the right password works, and a schema from a newer kjournal is refused: one line, exit 2', async () => {
    const db = 'kj_newer';
    const srv = await startClickHouseServe(ch.url, db, [
      '--clickhouse-user',
      'kj',
      '--clickhouse-password-file',
      join(dir, 'right'),
    ]);
    try {
      const r = await pushJson(srv.url, {
        streams: [{ stream: { app: 'a' }, values: [[String(nsNow()), 'x']] }],
      });
      assert.equal(r.status, 204, r.text);
    } finally {
      await srv.stop();
      await removeDir(srv.dataDir);
    }
    await chSql(ch.url, `INSERT INTO ${db}.schema_version (version, at, by) VALUES (999, 0, 'future')`);
    await expectSetupExit(
      ['--clickhouse-database', db],
      /^kjournal: ClickHouse database kj_newer has kjournal schema version 999, newer than this kjournal understands \(1\): upgrade kjournal$/,
    );
  });

  test('an insert ClickHouse refuses answers 503 with Retry-After and its reason, then works again', async () => {
    const db = 'kj_refused';
    const srv = await startClickHouseServe(ch.url, db);
    const push = (line: string) =>
      pushJson(srv.url, { streams: [{ stream: { app: 'r' }, values: [[String(nsNow()), line]] }] });
    try {
      assert.equal((await push('before')).status, 204);
      // The table taken away behind the server's back: ClickHouse refuses the write (code 60).
      await chSql(ch.url, `DETACH TABLE ${db}.entries`);
      const r = await push('while detached');
      assert.equal((await push('retried')).status, 503);
      assert.equal(r.status, 503, r.text);
      assert.ok(Number(r.headers.get('retry-after')) > 0, 'Retry-After');
      assert.match(r.text, /^ClickHouse refused the write: Table kj_refused\.entries doesn't exist/);
      await chSql(ch.url, `ATTACH TABLE ${db}.entries`);
      assert.equal((await push('after')).status, 204);
      assert.equal((await chSql(ch.url, `SELECT count() FROM ${db}.entries`)).trim(), '2');
      // The log says so once, without a stack trace.
      assert.doesNotMatch(srv.stderr(), /\n\s+at /, srv.stderr());
      assert.equal(
        srv.stderr().match(/ClickHouse refused the write: Table kj_refused\.entries doesn't exist/g)?.length,
        1,
        srv.stderr(),
      );
    } finally {
      await srv.stop();
      await removeDir(srv.dataDir);
    }
  });

  test('a query ClickHouse refuses (the user profile reads at most 20000 rows) answers 400 with its reason', async () => {
    const srv = await startClickHouseServe(ch.url, 'kj_limited', [
      '--clickhouse-user',
      'limited',
      '--clickhouse-password-file',
      join(dir, 'pw'),
    ]);
    try {
      const base = nsNow() - 60_000_000_000n;
      for (let b = 0; b < 3; b++) {
        const values = Array.from({ length: 10_000 }, (_, i) => [
          String(base + BigInt(b * 10_000 + i) * 1000n),
          `line ${b * 10_000 + i}`,
        ]);
        const r = await pushJson(srv.url, { streams: [{ stream: { app: 'many' }, values }] });
        assert.equal(r.status, 204, r.text);
      }
      const r = await http(
        `${srv.url}/loki/api/v1/query_range?${new URLSearchParams({
          query: '{app="many"} |= "nothing matches"',
          start: String(base - 1n),
          limit: '10',
        })}`,
      );
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, /ClickHouse refused the query: .*Limit for rows/);
      assert.doesNotMatch(r.text, /\n\s+at /);
      assert.equal(r.text.trim().split('\n').length, 1, r.text);
    } finally {
      await srv.stop();
      await removeDir(srv.dataDir);
    }
  });

  test('a query past --query-timeout answers 504, and a query whose client went away, are KILLed in ClickHouse', async (t) => {
    const db = 'kj_slow';
    // One thread per query (the user's profile): a scan as slow on a busy machine as on an idle one.
    const srv = await startClickHouseServe(ch.url, db, [
      '--query-timeout',
      '1s',
      '--clickhouse-user',
      'slow',
      '--clickhouse-password-file',
      join(dir, 'pw'),
    ]);
    try {
      const base = nsNow() - 600_000_000_000n;
      const r = await pushJson(srv.url, {
        streams: [{ stream: { app: 'slow' }, values: [[String(base), 'seed']] }],
      });
      assert.equal(r.status, 204, r.text);
      // Many rows of the seed's stream, made by ClickHouse itself (pushing them would take minutes).
      const [tenant, stream, seq] = (
        await chSql(ch.url, `SELECT tenant, stream, seq FROM ${db}.entries FORMAT TSV`)
      )
        .trim()
        .split('\t');
      await chSql(
        ch.url,
        `INSERT INTO ${db}.entries (tenant, stream, ts, seq, observed, attr_names, attr_values, body)
         SELECT '${tenant}', ${stream}, ${base} + number + 1, ${seq}, 0, [], [],
           concat('row ', toString(number), ' ', toString(cityHash64(number)), ' ${'abcdefghijklmnopqrstuvwxyz0123456789 '.repeat(12)}')
         FROM numbers(${ROWS})`,
      );
      const running = () =>
        chSql(
          ch.url,
          `SELECT count() FROM system.processes WHERE query LIKE '%FROM ${db}.entries%' AND query NOT LIKE '%system.processes%'`,
        ).then((n) => Number(n.trim()));
      const started = Date.now();
      const answer = http(
        `${srv.url}/loki/api/v1/query_range?${new URLSearchParams({
          query: '{app="slow"} |~ "[0-9]+ [a-z]+[0-9]+[a-z]"',
          start: String(base - 1n),
          end: String(base + 60_000_000_000n),
          limit: '10',
        })}`,
      );
      // It runs in ClickHouse while the server waits for it.
      let seen = false;
      let settled = false;
      void answer.finally(() => {
        settled = true;
      });
      while (!settled && !seen) {
        seen = (await running()) > 0;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(seen, 'the query ran in ClickHouse');
      const q = await answer;
      const took = Date.now() - started;
      assert.equal(q.status, 504, q.text);
      assert.match(q.text, /timed out|deadline|time/i);
      assert.doesNotMatch(q.text, /\n\s+at /);
      assert.ok(took < 5000, `answered after the timeout, not after ClickHouse: ${took} ms`);
      // KILLed: ClickHouse no longer runs it well before it would have ended.
      const deadline = Date.now() + 3000;
      for (;;) {
        const n = await running();
        if (n === 0) break;
        if (Date.now() > deadline) throw new Error(`still running in ClickHouse: ${n}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const gone = Date.now() - started;
      // The same scan with no timeout takes much longer (else the test proves nothing).
      const full = Date.now();
      await chSql(
        ch.url,
        `SELECT count() FROM ${db}.entries WHERE match(body, '[0-9]+ [a-z]+[0-9]+[a-z]') SETTINGS max_threads = 1`,
      );
      const fullMs = Date.now() - full;
      t.diagnostic(
        `504 after ${took} ms, gone from system.processes after ${gone} ms, the whole scan takes ${fullMs} ms`,
      );
      assert.ok(gone + 1000 < fullMs, `killed well before it would have ended: ${gone} ms vs ${fullMs} ms`);

      // A client that goes away mid-query: the server aborts it and ClickHouse KILLs it too.
      const controller = new AbortController();
      const cancelled = fetch(
        `${srv.url}/loki/api/v1/query_range?${new URLSearchParams({
          query: '{app="slow"} |~ "[0-9]+ [a-z]+[0-9]+[a-z]x"',
          start: String(base - 1n),
          end: String(base + 60_000_000_000n),
          limit: '10',
        })}`,
        { signal: controller.signal },
      ).catch(() => undefined);
      const asked = Date.now();
      while ((await running()) === 0) {
        if (Date.now() - asked > 3000) throw new Error('the cancelled query never ran in ClickHouse');
        await new Promise((r) => setTimeout(r, 20));
      }
      controller.abort();
      await cancelled;
      const abortedAt = Date.now();
      while ((await running()) > 0) {
        if (Date.now() - abortedAt > 3000) throw new Error('the cancelled query still runs in ClickHouse');
        await new Promise((r) => setTimeout(r, 50));
      }
      t.diagnostic(`a cancelled query left ClickHouse ${Date.now() - abortedAt} ms after the client went`);
      assert.ok(Date.now() - asked + 1000 < fullMs, 'gone well before it would have ended');
    } finally {
      await srv.stop();
      await removeDir(srv.dataDir);
    }
  });
});

test('ClickHouse unreachable at start: serve starts, says so once, 503 with Retry-After and /ready fails until it comes', async () => {
  const ch = await startClickHouse();
  let srv: ServerProcess | undefined;
  try {
    await ch.kill();
    srv = await startClickHouseServe(ch.url, 'kj_late');
    const unreachable = () =>
      srv!
        .stderr()
        .split('\n')
        .filter((l) => /unreachable/.test(l));
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(unreachable().length, 1, srv.stderr());
    assert.match(unreachable()[0]!, /ClickHouse at http:\/\/127\.0\.0\.1:\d+ is unreachable/);
    const push = await pushJson(srv.url, {
      streams: [{ stream: { app: 'late' }, values: [[String(nsNow()), 'x']] }],
    });
    assert.equal(push.status, 503, push.text);
    assert.ok(Number(push.headers.get('retry-after')) > 0, 'Retry-After');
    const read = await http(
      `${srv.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app="late"}' })}`,
    );
    assert.equal(read.status, 503, read.text);
    assert.ok(Number(read.headers.get('retry-after')) > 0, 'Retry-After on reads');
    const kube = await http(`${srv.url}/apis/core.kjournal/v1alpha1/containerlogs`);
    assert.equal(kube.status, 503, kube.text);
    assert.equal(unreachable().length, 1, `said once, not per request: ${srv.stderr()}`);
    assert.doesNotMatch(srv.stderr(), /\n\s+at /, 'no stack traces');
    const ready = await http(`${srv.url}/ready`);
    assert.equal(ready.status, 503);
    assert.match(ready.text, /unreachable/);

    await ch.start();
    const deadline = Date.now() + 10_000;
    while ((await http(`${srv.url}/ready`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`not ready after ClickHouse came: ${srv.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const ok = await pushJson(srv.url, {
      streams: [{ stream: { app: 'late' }, values: [[String(nsNow()), 'x']] }],
    });
    assert.equal(ok.status, 204, ok.text);
    assert.equal((await chSql(ch.url, 'SELECT count() FROM kj_late.entries')).trim(), '1');
  } finally {
    await srv?.stop();
    if (srv) await removeDir(srv.dataDir);
    await ch.stop();
  }
});
