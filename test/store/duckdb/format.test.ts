/**
 * The embedded store's format file (src/store/duckdb/format.ts): a new data directory gets
 * `FORMAT` saying format 1; a directory of a kjournal of before format files keeps its entries and
 * gets the file; a newer format, or a format file that cannot be read, is refused at open with a
 * StoreFormatError and nothing in the directory changes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { DuckDbStore } from '../../../src/store/duckdb/duckdb-store.js';
import { FORMAT_FILE, STORE_FORMAT, StoreFormatError } from '../../../src/store/duckdb/format.js';
import { StoreSetupError } from '../../../src/store/store.js';
import { ownVersion } from '../../../src/util/version.js';
import { dirListing } from '../../helpers/dir-listing.js';
import { collect, rec } from '../contract.js';

const T = 1_800_000_000_000_000_000n;
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kj-format-'));
  dirs.push(d);
  return d;
}

function quiet(dir: string, log: (line: string) => void = () => {}): DuckDbStore {
  return new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000, sealAfterMs: 3_600_000, log });
}

/** A data directory with entries in a part and in the log, closed. */
async function dirWithData(): Promise<string> {
  const dir = await tempDir();
  const store = quiet(dir);
  await store.open();
  await store.append('t', [rec({ app: 'a' }, T, 'converted')]);
  await store.settle();
  await store.append('t', [rec({ app: 'a' }, T + 1n, 'in the log')]);
  await store.close();
  return dir;
}

test('format: a new data directory gets FORMAT, format 1, written by this kjournal', async () => {
  const dir = await tempDir();
  const data = join(dir, 'data');
  const store = quiet(data);
  await store.open();
  await store.close();
  const text = await readFile(join(data, FORMAT_FILE), 'utf8');
  assert.equal(text, `{"format":${STORE_FORMAT},"written_by":"kjournal ${ownVersion()}"}\n`);
  assert.equal(STORE_FORMAT, 1);
  assert.ok(!(await readdir(data)).includes(`${FORMAT_FILE}.tmp`), 'the temporary file is renamed');
  // Opened again, the file is kept as it is.
  const before = await stat(join(data, FORMAT_FILE));
  const again = quiet(data);
  await again.open();
  await again.close();
  assert.equal((await stat(join(data, FORMAT_FILE))).mtimeMs, before.mtimeMs);
});

test('format: a directory of before format files keeps its entries and gets FORMAT', async () => {
  const dir = await dirWithData();
  await rm(join(dir, FORMAT_FILE));
  const lines: string[] = [];
  const store = quiet(dir, (line) => lines.push(line));
  await store.open();
  try {
    const got = await collect(store, { tenant: 't' });
    assert.deepEqual(
      got.map((e) => e.body),
      ['converted', 'in the log'],
    );
  } finally {
    await store.close();
  }
  assert.deepEqual(JSON.parse(await readFile(join(dir, FORMAT_FILE), 'utf8')), {
    format: 1,
    written_by: `kjournal ${ownVersion()}`,
  });
  assert.ok(
    lines.some((l) => /had no FORMAT file .*format 1/.test(l)),
    `the start says so: ${lines.join(' | ')}`,
  );
});

test('format: a new directory with a leftover FORMAT.tmp is new, and gets FORMAT', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, `${FORMAT_FILE}.tmp`), '{"form');
  const lines: string[] = [];
  const store = quiet(dir, (line) => lines.push(line));
  await store.open();
  await store.close();
  assert.equal(JSON.parse(await readFile(join(dir, FORMAT_FILE), 'utf8')).format, 1);
  assert.ok(!(await readdir(dir)).includes(`${FORMAT_FILE}.tmp`));
  assert.ok(!lines.some((l) => /had no FORMAT file/.test(l)), 'not an old directory');
});

test('format: a newer format is refused at open, naming both, and nothing in the directory changes', async () => {
  const dir = await dirWithData();
  const newer = '{"format":2,"written_by":"kjournal 0.3.0"}\n';
  await writeFile(join(dir, FORMAT_FILE), newer);
  const before = await dirListing(dir);
  const store = quiet(dir);
  const err = await store.open().then(
    () => assert.fail('opened a directory of format 2'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof StoreFormatError, String(err));
  assert.ok(err instanceof StoreSetupError, 'a setup error: the CLI exits 2');
  assert.equal(err.code, 'STORE_FORMAT_NEWER');
  assert.equal(err.found, 2);
  assert.equal(err.path, join(dir, FORMAT_FILE));
  assert.equal(
    err.message,
    `the data directory ${dir} was written by a newer kjournal (format 2, by kjournal 0.3.0; this build, ` +
      `kjournal ${ownVersion()}, reads format 1): run the newer version, or restore a copy taken before the upgrade`,
  );
  assert.ok(!err.message.includes('\n'));
  assert.deepEqual(await dirListing(dir), before);
  assert.equal(await readFile(join(dir, FORMAT_FILE), 'utf8'), newer);
});

for (const [what, text, why] of [
  ['not JSON', 'format=1\n', /\(not JSON\)/],
  ['empty', '', /\(empty\)/],
  ['an array', '[1]', /\(not a JSON object\)/],
  ['no format', '{"written_by":"kjournal 0.1.0"}', /\("format" is missing/],
  ['a string format', '{"format":"1"}', /\("format" is "1", not a whole number/],
  ['format 0', '{"format":0}', /\("format" is 0, not a whole number/],
  ['a fraction', '{"format":1.5}', /\("format" is 1.5, not a whole number/],
] as const) {
  test(`format: a damaged FORMAT file (${what}) is refused naming it, and not rewritten`, async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'catalog.ndjson'), '');
    await writeFile(join(dir, FORMAT_FILE), text);
    const before = await dirListing(dir);
    const err = await quiet(dir)
      .open()
      .then(
        () => assert.fail('opened a directory with a damaged format file'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof StoreFormatError, String(err));
    assert.equal(err.code, 'STORE_FORMAT_DAMAGED');
    assert.ok(err.message.startsWith(`the format file ${join(dir, FORMAT_FILE)} is damaged `), err.message);
    assert.match(err.message, why);
    assert.match(err.message, /not rewritten/);
    assert.deepEqual(await dirListing(dir), before);
    assert.equal(await readFile(join(dir, FORMAT_FILE), 'utf8'), text);
  });
}

const isRoot = process.getuid?.() === 0;

test('format: on a full volume a directory of before format files still opens, and gets FORMAT at the next start', {
  skip: isRoot ? false : 'mounting a small tmpfs as a full disk needs root (CI runs these as root)',
}, async () => {
  const run = promisify(execFile);
  const root = await tempDir();
  const mnt = join(root, 'mnt');
  await mkdir(mnt);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt]);
  try {
    const dir = join(mnt, 'data');
    const first = quiet(dir);
    await first.open();
    await first.append('t', [rec({ app: 'a' }, T, 'kept')]);
    await first.close();
    await rm(join(dir, FORMAT_FILE));
    // Fill the volume to the last page.
    const fh = await open(join(mnt, 'filler'), 'w');
    for (const size of [1 << 20, 4096]) {
      const chunk = Buffer.alloc(size, 0x61);
      try {
        for (;;) await fh.write(chunk);
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      }
    }
    await fh.close();

    const lines: string[] = [];
    const full = quiet(dir, (line) => lines.push(line));
    await full.open();
    try {
      assert.deepEqual(
        (await collect(full, { tenant: 't' })).map((e) => e.body),
        ['kept'],
      );
    } finally {
      await full.close();
    }
    assert.ok(
      lines.some(
        (l) => l.startsWith('store: cannot write FORMAT (') && l.endsWith('the next start writes it'),
      ),
      lines.join(' | '),
    );
    const names = await readdir(dir);
    assert.ok(!names.includes(FORMAT_FILE) && !names.includes(`${FORMAT_FILE}.tmp`), names.join(' '));

    await rm(join(mnt, 'filler'));
    const later = quiet(dir);
    await later.open();
    await later.close();
    assert.equal(JSON.parse(await readFile(join(dir, FORMAT_FILE), 'utf8')).format, 1);
  } finally {
    await run('umount', ['-l', mnt]);
  }
});
