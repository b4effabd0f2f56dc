/**
 * The data directory's format file through the commands that open a data directory, run as
 * processes: `kjournal serve --data DIR` on a directory of a newer format exits 2 with one line and
 * changes nothing in it (the lock file aside: it is taken before the format is read, by design);
 * `kjournal check` prints the format, refuses a newer one and names a damaged file (and then
 * repairs nothing); `kjournal migrate --from-data` refuses a newer one as serve does.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { LOCK_FILE } from '../../src/disk/dir-lock.js';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { FORMAT_FILE } from '../../src/store/duckdb/format.js';
import { ownVersion } from '../../src/util/version.js';
import { dirListing } from '../helpers/dir-listing.js';
import { CLI } from '../helpers/server-process.js';
import { rec } from '../store/contract.js';

const execFileP = promisify(execFile);
const T = 1_800_000_000_000_000_000n;
const NEWER = '{"format":2,"written_by":"kjournal 0.3.0"}\n';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kj-format-cli-'));
  dirs.push(d);
  return d;
}

/** A closed data directory holding one entry, and its FORMAT file. */
async function dirWithData(): Promise<string> {
  const dir = await tempDir();
  const store = new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000, log: () => {} });
  await store.open();
  await store.append('t', [rec({ app: 'a' }, T, 'kept')]);
  await store.close();
  return dir;
}

async function kjournal(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeout: 60_000,
    });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout, err: err.stderr };
  }
}

const refusal = (dir: string) =>
  `the data directory ${dir} was written by a newer kjournal (format 2, by kjournal 0.3.0; this build, ` +
  `kjournal ${ownVersion()}, reads format 1): run the newer version, or restore a copy taken before the upgrade`;

test('serve --data on a directory of a newer format exits 2 with one line, and changes nothing in it', async () => {
  const dir = await dirWithData();
  await writeFile(join(dir, FORMAT_FILE), NEWER);
  const before = await dirListing(dir, [LOCK_FILE]);
  const r = await kjournal('serve', '--listen', '127.0.0.1:0', '--data', dir);
  assert.equal(r.code, 2, r.err);
  assert.equal(r.err, `kjournal: ${refusal(dir)}\n`);
  assert.deepEqual(await dirListing(dir, [LOCK_FILE]), before);
  assert.equal(await readFile(join(dir, FORMAT_FILE), 'utf8'), NEWER);
});

test('kjournal check prints the format, and says when a directory has no FORMAT file yet', async () => {
  const dir = await dirWithData();
  const ok = await kjournal('check', dir);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(
    ok.out,
    new RegExp(`^${dir}: format 1, 0 part\\(s\\), 1 log segment\\(s\\) checked: no damage$`, 'm'),
  );

  // A directory of before format files: format 1, a note, and the check writes nothing.
  await rm(join(dir, FORMAT_FILE));
  const old = await kjournal('check', dir);
  assert.equal(old.code, 0, old.out + old.err);
  assert.match(
    old.out,
    /^FORMAT: none \(a directory of a kjournal of before format files\): format 1, written at the next start$/m,
  );
  assert.match(old.out, /: format 1, 0 part\(s\)/);
  await assert.rejects(readFile(join(dir, FORMAT_FILE)), { code: 'ENOENT' });
});

test('kjournal check refuses a newer format (exit 2) and names a damaged FORMAT file (exit 1), even with --repair', async () => {
  const dir = await dirWithData();
  await writeFile(join(dir, FORMAT_FILE), NEWER);
  const before = await dirListing(dir, [LOCK_FILE]);
  for (const args of [[dir], [dir, '--repair']]) {
    const r = await kjournal('check', ...args);
    assert.equal(r.code, 2, r.out + r.err);
    assert.equal(r.err, `kjournal: ${refusal(dir)}\n`);
    assert.equal(r.out, '', 'no file is judged');
  }
  assert.deepEqual(await dirListing(dir, [LOCK_FILE]), before);

  await writeFile(join(dir, FORMAT_FILE), '{"format":');
  // A damaged log record too, which --repair would set aside if the format were known.
  const [seg] = (await readdir(join(dir, 'wal'))).filter((n) => n.endsWith('.wal2'));
  const segPath = join(dir, 'wal', seg!);
  const text = await readFile(segPath, 'latin1');
  await writeFile(segPath, text.replace('kept', 'KEPT'), 'latin1');
  const damagedSegment = await readFile(segPath);
  for (const args of [[dir], [dir, '--repair']]) {
    const r = await kjournal('check', ...args);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(
      r.out,
      new RegExp(
        `^FORMAT: DAMAGED: the format file ${join(dir, FORMAT_FILE)} is damaged \\(not JSON\\)`,
        'm',
      ),
    );
    assert.doesNotMatch(r.out, /\(repaired/);
    if (args.includes('--repair')) assert.match(r.out, /^nothing is repaired while FORMAT cannot be read$/m);
    assert.match(r.out, new RegExp(`^wal/${seg}: DAMAGED: `, 'm'));
    assert.match(r.err, /^kjournal: 2 damaged file\(s\) in /);
  }
  assert.equal(await readFile(join(dir, FORMAT_FILE), 'utf8'), '{"format":', 'not rewritten');
  assert.deepEqual(await readFile(segPath), damagedSegment, 'the segment is left as it is');
  await assert.rejects(readdir(join(dir, 'quarantine')), { code: 'ENOENT' });
});

test('kjournal migrate --from-data refuses a directory of a newer format as serve does', async () => {
  const dir = await dirWithData();
  await writeFile(join(dir, FORMAT_FILE), NEWER);
  const to = join(await tempDir(), 'to');
  const r = await kjournal('migrate', '--from-data', dir, '--to-data', to, '--progress', 'none');
  assert.equal(r.code, 2, r.out + r.err);
  assert.equal(r.err, `kjournal: cannot open the source store: ${refusal(dir)}\n`);
  assert.equal(await readFile(join(dir, FORMAT_FILE), 'utf8'), NEWER);
});
