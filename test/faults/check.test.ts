/**
 * `kjournal check DATA_DIR [--repair]`, run as a process: it finds a damaged part and a damaged log
 * record, exits 1 naming them, moves them aside with `--repair`, and the store then serves the rest.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { CLI, startServerProcess } from '../helpers/server-process.js';
import { collect, rec } from '../store/contract.js';

const run = promisify(execFile);
const DAY = 86_400_000_000_000n;
const T = 1_800_000_000_000_000_000n;

async function check(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'check', ...args]);
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

const quiet = (dir: string) =>
  new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000, sealAfterMs: 3_600_000, log: () => {} });

test('kjournal check finds a damaged part and a damaged log record; --repair sets them aside', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-check-'));
  try {
    let store = quiet(dir);
    await store.open();
    await store.append('t', [rec({ app: 'a' }, T, 'in a part that will be damaged')]);
    await store.append('t', [rec({ app: 'a' }, T + 2n * DAY, 'in a healthy part')]);
    await store.settle();
    await store.append('t', [rec({ app: 'a' }, T + 3n * DAY, 'a good log record')]);
    await store.append('t', [rec({ app: 'a' }, T + 3n * DAY + 1n, 'a log record to damage')]);
    await store.close();

    const clean = await check(dir);
    assert.equal(clean.code, 0, clean.out + clean.err);
    assert.match(clean.out, /2 part\(s\), 1 log segment\(s\) checked: no damage/);

    const day = new Date(Number(T / 1_000_000n)).toISOString().slice(0, 10);
    const dayDir = join(dir, 'parts', 't0', day);
    const [partName] = await readdir(dayDir);
    const part = join(dayDir, partName!);
    const size = (await stat(part)).size;
    const fh = await open(part, 'r+');
    await fh.write(Buffer.alloc(64, 0xff), 0, 64, Math.floor(size / 3));
    await fh.close();
    const [segName] = (await readdir(join(dir, 'wal'))).filter((n) => n.endsWith('.wal2'));
    const seg = join(dir, 'wal', segName!);
    const text = await readFile(seg, 'latin1');
    const sfh = await open(seg, 'r+');
    await sfh.write(Buffer.from('X'), 0, 1, text.indexOf('to damage'));
    await sfh.close();

    const found = await check(dir);
    assert.equal(found.code, 1);
    assert.match(found.out, new RegExp(`parts/t0/${day}/${partName}: DAMAGED: `));
    assert.match(
      found.out,
      new RegExp(`wal/${segName}: DAMAGED: 1 damaged region\\(s\\).*fail their checksum`),
    );
    assert.match(found.err, /^kjournal: 2 damaged file\(s\) in .*; run `kjournal check --repair`/);

    const repaired = await check(dir, '--repair');
    assert.equal(repaired.code, 0, repaired.out + repaired.err);
    assert.match(repaired.out, /2 damaged, 2 repaired/);
    assert.equal((await readdir(join(dir, 'quarantine'))).length, 2);
    assert.deepEqual(await readdir(dayDir), []);

    const again = await check(dir);
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /no damage; 2 file\(s\) already in quarantine/);

    store = quiet(dir);
    await store.open();
    try {
      const bodies = (await collect(store, { tenant: 't' })).map((e) => e.body);
      assert.deepEqual(bodies, ['in a healthy part', 'a good log record']);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('kjournal check on something that is not a data directory fails with one line', async () => {
  const r = await check('/nonexistent/kjournal-data');
  assert.equal(r.code, 1);
  assert.equal(r.err, 'kjournal: /nonexistent/kjournal-data is not a directory\n');
});

test('kjournal check refuses a data directory a running server holds, naming its pid', async () => {
  const server = await startServerProcess();
  try {
    const r = await check(server.dataDir);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      new RegExp(
        `^kjournal: data directory .* is in use by another process \\(pid ${server.child.pid},.*stop the server before checking\\n$`,
      ),
    );
  } finally {
    await server.stop();
    await rm(server.dataDir, { recursive: true, force: true });
  }
  const after = await check(server.dataDir);
  assert.equal(after.code, 1, 'the directory is gone now');
});
