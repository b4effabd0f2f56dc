/**
 * `kjournal import` into a real server: a kubelet pod-log tree and a kube-apiserver audit log,
 * read back with LogQL.
 */

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runMain } from '../../src/cli/main.js';
import { runCliCapturingStderr as runCli } from '../helpers/process-info.js';
import { allValues, queryRange, removeDir, startServerProcess } from '../helpers/server-process.js';

test('import a pod tree and an audit log, then query them', async () => {
  const server = await startServerProcess();
  const root = await mkdtemp(join(tmpdir(), 'kj-import-'));
  try {
    const now = Date.now();
    const iso = (ms: number, frac: string) => `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
    const container = join(root, 'pods', 'shop_checkout-7d9f8b6c5-x2k4p_0c1d2e3f', 'app');
    await mkdir(container, { recursive: true });
    await writeFile(
      join(container, '0.log'),
      `${[
        `${iso(now - 5000, '123456789')} stdout F order placed`,
        `${iso(now - 4000, '5')} stderr P payment `,
        `${iso(now - 4000, '6')} stderr F timeout`,
      ].join('\n')}\n`,
    );
    await writeFile(
      join(container, '0.log.20261123-100000.gz'),
      gzipSync(`${iso(now - 9000, '000000001')} stdout F rotated line\n`),
    );
    const audit = join(root, 'audit');
    await mkdir(audit);
    const event = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: 'a-1',
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/shop/pods',
      verb: 'create',
      user: { username: 'alice' },
      objectRef: { resource: 'pods', namespace: 'shop', name: 'p1', apiVersion: 'v1' },
      responseStatus: { code: 201 },
      requestReceivedTimestamp: iso(now - 3000, '100000'),
      stageTimestamp: iso(now - 3000, '654321'),
    };
    await writeFile(join(audit, 'audit.log'), `${JSON.stringify(event)}\n`);

    const code = await runMain(['import', join(root, 'pods'), audit, '--server', server.url]);
    assert.equal(code, 0);

    const start = ((BigInt(now) - 60_000n) * 1_000_000n).toString();
    const pods = allValues(
      await queryRange(server.url, { query: '{namespace="shop", container="app"}', start, limit: '100' }),
    );
    assert.deepEqual(
      pods.map((v) => v[1]),
      ['rotated line', 'order placed', 'payment timeout'],
    );
    const msNs = (ms: number) => BigInt(ms) * 1_000_000n;
    assert.equal(
      pods[1]![0],
      (msNs(now - 5000) - (msNs(now - 5000) % 1_000_000_000n) + 123_456_789n).toString(),
    );

    const audits = await queryRange(server.url, {
      query: '{kind="auditevent"} |= "alice"',
      start,
      limit: '10',
    });
    assert.equal(audits.data.result.length, 1);
    const stream = audits.data.result[0]!;
    assert.equal(stream.stream.class, 'audit');
    assert.equal(stream.stream.verb, 'create', 'audit attributes come back as structured metadata');
    assert.equal(
      stream.values[0]![0],
      (msNs(now - 3000) - (msNs(now - 3000) % 1_000_000_000n) + 654_321_000n).toString(),
    );
    assert.deepEqual(JSON.parse(stream.values[0]![1]), event);
  } finally {
    await server.stop();
    await removeDir(server.dataDir);
    await removeDir(root);
  }
});

/** Runs the CLI with stderr captured. */

test('the summary counts what the server stored and refused; too-old lines do not stop the import', async () => {
  const server = await startServerProcess({ args: ['--reject-old-samples-max-age', '1h'] });
  const root = await mkdtemp(join(tmpdir(), 'kj-import-honest-'));
  try {
    const now = Date.now();
    const at = (ms: number) => new Date(ms).toISOString();
    const jsonl = join(root, 'app.jsonl');
    await writeFile(
      jsonl,
      `${[
        JSON.stringify({ time: at(now - 2 * 3_600_000), msg: 'old 1' }),
        JSON.stringify({ time: at(now - 3 * 3_600_000), msg: 'old 2' }),
        JSON.stringify({ msg: 'no time 1' }),
        JSON.stringify({ time: at(now - 60_000), msg: 'ok 1' }),
        JSON.stringify({ msg: 'no time 2' }),
        JSON.stringify({ time: '2263-01-01T00:00:00Z', msg: 'future' }),
        'not json',
      ].join('\n')}\n`,
    );
    const logfmt = join(root, 'app.logfmt');
    await writeFile(logfmt, `level=info msg="logfmt no time"\nts=${at(now - 30_000)} msg=logfmt-ok\n`);
    // The lines without a time take the file's modification time (plus their line number in ns).
    const mtime = new Date(now - 600_000);
    await utimes(jsonl, mtime, mtime);
    await utimes(logfmt, mtime, mtime);
    // As the file system keeps it (utimes goes through floating-point seconds).
    const mtimeNs = (await stat(jsonl, { bigint: true })).mtimeNs;
    const logfmtMtimeNs = (await stat(logfmt, { bigint: true })).mtimeNs;

    const r = await runCli(['import', root, '--server', server.url, '--labels', 'job=honest']);
    // The far-future line is a refusal for something other than age: the exit status says so.
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /imported 2 files: 9 lines, 7 entries sent: 5 stored, 0 duplicate, 3 refused \(too_new=1, too_old=2\); 1 malformed, 3 without a time \(given the file's modification time\);/,
    );
    assert.match(r.stderr, /note: 2 entries were older than the server accepts/);
    assert.match(r.stderr, /kjournal: the server refused 1 entries \(too_new=1\); the others were imported/);

    // What the server holds is what the summary says it stored, each file under its `filename`.
    const res = await queryRange(server.url, {
      query: '{job="honest"}',
      start: String(BigInt(now - 3_600_000) * 1_000_000n),
      limit: '100',
    });
    const byFile = new Map(res.data.result.map((s) => [s.stream.filename, s.values]));
    assert.equal(
      res.data.result.reduce((n, s) => n + s.values.length, 0),
      5,
      'as many as the summary says were stored',
    );
    const values = (file: string) =>
      (byFile.get(file) ?? [])
        .map(([ts, line]) => [BigInt(ts), line])
        .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
    assert.deepEqual(values(await realpath(jsonl)), [
      [mtimeNs + 3n, JSON.stringify({ msg: 'no time 1' })],
      [mtimeNs + 5n, JSON.stringify({ msg: 'no time 2' })],
      [BigInt(now - 60_000) * 1_000_000n, JSON.stringify({ time: at(now - 60_000), msg: 'ok 1' })],
    ]);
    assert.deepEqual(values(await realpath(logfmt)), [
      [logfmtMtimeNs + 1n, 'level=info msg="logfmt no time"'],
      [BigInt(now - 30_000) * 1_000_000n, `ts=${at(now - 30_000)} msg=logfmt-ok`],
    ]);

    // --missing-time refuse skips lines without a time; refusals for age alone exit 0.
    const old = join(root, 'old', 'old.jsonl');
    await mkdir(join(root, 'old'));
    await writeFile(
      old,
      `${JSON.stringify({ msg: 'untimed' })}\n${JSON.stringify({ time: at(now - 5 * 3_600_000), msg: 'old' })}\n`,
    );
    const r2 = await runCli([
      'import',
      old,
      '--server',
      server.url,
      '--labels',
      'job=refuse',
      '--missing-time',
      'refuse',
    ]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(
      r2.stderr,
      /imported 1 file: 2 lines, 1 entries sent: 0 stored, 0 duplicate, 1 refused \(too_old=1\); 0 malformed, 1 without a time \(skipped\);/,
    );
    const none = await queryRange(server.url, {
      query: '{job="refuse"}',
      start: String(BigInt(now - 600_000_000) * 1_000_000n),
      limit: '10',
    });
    assert.equal(none.data.result.length, 0);
  } finally {
    await server.stop();
    await removeDir(server.dataDir);
    await removeDir(root);
  }
});

test('importing the same files twice, or after an interruption, stores each entry once', async () => {
  const server = await startServerProcess();
  const root = await mkdtemp(join(tmpdir(), 'kj-import-twice-'));
  try {
    const now = Date.now();
    const container = join(root, 'pods', 'shop_web-1_0c1d2e3f', 'app');
    await mkdir(container, { recursive: true });
    const lines = Array.from(
      { length: 500 },
      (_, i) => `${new Date(now - 60_000 + i).toISOString().replace('Z', '000000Z')} stdout F line ${i}`,
    );
    // The first run sees only the first 300 lines (as if it was interrupted there).
    await writeFile(join(container, '0.log'), `${lines.slice(0, 300).join('\n')}\n`);
    const first = await runCli([
      'import',
      join(root, 'pods'),
      '--server',
      server.url,
      '--batch-lines',
      '100',
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /300 entries sent: 300 stored, 0 duplicate/);
    await writeFile(join(container, '0.log'), `${lines.join('\n')}\n`);
    for (const [stored, duplicate] of [
      [200, 300],
      [0, 500],
    ]) {
      const again = await runCli([
        'import',
        join(root, 'pods'),
        '--server',
        server.url,
        '--batch-lines',
        '100',
      ]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, new RegExp(`500 entries sent: ${stored} stored, ${duplicate} duplicate`));
    }
    const res = await queryRange(server.url, {
      query: 'sum(count_over_time({namespace="shop"}[1h]))',
      start: String(BigInt(now) * 1_000_000n),
      end: String(BigInt(now) * 1_000_000n),
      step: '60',
    });
    const values = res.data.result.flatMap((s) => s.values ?? []);
    assert.deepEqual(
      values.map((v) => v[1]),
      ['500'],
    );
  } finally {
    await server.stop();
    await removeDir(server.dataDir);
    await removeDir(root);
  }
});
