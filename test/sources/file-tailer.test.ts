import assert from 'node:assert/strict';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import {
  appendFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LineSplitter } from '../../src/sources/files/split.js';
import { type FileHandler, runTailer, type TailerOptions } from '../../src/sources/files/tailer.js';
import type { Source } from '../../src/sources/source.js';
import { runSource, sleep } from './file-source-helpers.js';

/** One record per line, the line as its body. */
const lineHandler = (): FileHandler => ({
  line(text, out) {
    out.push({ timestamp: 1n, observedTimestamp: 1n, labels: {}, attributes: {}, body: text });
  },
  pending: () => false,
  end() {},
});

/** A source over `dir/*.log*`: one record per line, the line as its body. */
function plain(dir: string, opts: Partial<TailerOptions> = {}): Source {
  return {
    name: 'plain',
    run: (ctx) =>
      runTailer(ctx, {
        pollMs: 30,
        discover: async () => (await readdir(dir)).filter((f) => /\.log/.test(f)).map((f) => join(dir, f)),
        handler: lineHandler,
        ...opts,
      }),
  };
}

const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix} ${i}`);
const text = (ls: readonly string[]) => ls.map((l) => `${l}\n`).join('');

describe('LineSplitter', () => {
  test('splits across chunks with end offsets and drops a line over the limit', () => {
    const s = new LineSplitter(8);
    const got: [string | null, number][] = [];
    const on = (b: Buffer | null, start: number, stop: number, end: number) =>
      got.push([b === null ? null : b.toString('utf8', start, stop), end]);
    s.push(Buffer.from('ab\ncd'), 0, on);
    s.push(Buffer.from('e\n0123456'), 5, on);
    s.push(Buffer.from('789abc\nok\nrest'), 14, on);
    assert.deepEqual(got, [
      ['ab', 3],
      ['cde', 7],
      [null, 21],
      ['ok', 24],
    ]);
    assert.equal(s.rest()?.toString(), 'rest');
    assert.ok(s.held <= 8);
  });
});

describe('file tailer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kj-tailer-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('batches stay within batchLines', async () => {
    await writeFile(join(dir, 'a.log'), text(lines('l', 95)));
    const r = runSource(plain(dir, { batchLines: 10 }));
    await r.waitFor(95);
    await r.stop();
    assert.deepEqual(r.bodies(), lines('l', 95));
    for (const b of r.batches) assert.ok(b.records.length <= 10, `batch of ${b.records.length}`);
  });

  test('a 10 MB line is reported too_long and skipped; the lines after it arrive', async () => {
    const f = join(dir, 'a.log');
    await writeFile(f, 'before\n');
    const r = runSource(plain(dir, { maxLineBytes: 1 << 20 }));
    await r.waitFor(1);
    await appendFile(f, `${'x'.repeat(10 << 20)}\nafter 1\nafter 2\n`);
    await r.waitFor(3);
    await r.stop();
    assert.deepEqual(r.bodies(), ['before', 'after 1', 'after 2']);
    assert.equal(r.problems.filter((p) => p.reason === 'too_long').length, 1);
  });

  test('a binary file is reported and skipped; other files go on', async () => {
    const bin = Buffer.alloc(4096);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 7) % 256;
    await writeFile(join(dir, 'bin.log'), bin);
    await writeFile(join(dir, 'text.log'), 'hello\n');
    const r = runSource(plain(dir));
    await r.waitFor(1);
    await r.waitProblem('binary_file');
    await sleep(100);
    await r.stop();
    assert.deepEqual(r.bodies(), ['hello']);
  });

  test('a missing directory is reported; the directory is picked up once created', async () => {
    const sub = join(dir, 'later');
    const r = runSource(plain(sub));
    await r.waitProblem('missing_dir');
    await mkdir(sub);
    await writeFile(join(sub, 'a.log'), 'found\n');
    await r.waitFor(1);
    await r.stop();
    assert.deepEqual(r.bodies(), ['found']);
    assert.equal(r.problems.filter((p) => p.reason === 'missing_dir').length, 1);
  });

  test('truncation while running is reported and the file is read again from its start', async () => {
    const f = join(dir, 'a.log');
    await writeFile(f, 'first line\nsecond line\n');
    const r = runSource(plain(dir));
    await r.waitFor(2);
    await truncate(f, 0);
    await appendFile(f, 'new\n');
    await r.waitFor(3);
    await r.stop();
    assert.deepEqual(r.bodies(), ['first line', 'second line', 'new']);
    assert.ok(r.problems.some((p) => p.reason === 'truncated'));
  });

  test('restart: resumes exactly; a rewritten file (same inode) or a shorter one is read from the start', async () => {
    const f = join(dir, 'a.log');
    await writeFile(f, text(lines('a', 5)));
    const r1 = runSource(plain(dir));
    await r1.waitFor(5);
    await r1.stop();
    const saved = r1.positions();
    const [pos] = Object.values(saved) as { offset: number; dev: string; ino: string }[];
    assert.equal(pos?.offset, text(lines('a', 5)).length);

    // Exactly the rest.
    await appendFile(f, text(lines('b', 3)));
    const r2 = runSource(plain(dir), saved);
    await r2.waitFor(3);
    await sleep(100);
    await r2.stop();
    assert.deepEqual(r2.bodies(), lines('b', 3));

    // Same inode, other bytes before the offset (what inode reuse looks like): from the start.
    const saved2 = r2.positions();
    await writeFile(f, text(lines('c', 12)));
    const r3 = runSource(plain(dir), saved2);
    await r3.waitFor(12);
    await sleep(100);
    await r3.stop();
    assert.deepEqual(r3.bodies(), lines('c', 12));
    assert.ok(r3.problems.some((p) => p.reason === 'inode_reused'));

    // Shorter than the saved offset: truncated.
    const saved3 = r3.positions();
    await writeFile(f, 'short\n');
    const r4 = runSource(plain(dir), saved3);
    await r4.waitFor(1);
    await r4.stop();
    assert.deepEqual(r4.bodies(), ['short']);
    assert.ok(r4.problems.some((p) => p.reason === 'truncated'));
  });

  test('a file deleted while read is drained through its descriptor, reported, and let go', async () => {
    const f = join(dir, 'a.log');
    const all = lines('big', 5000);
    await writeFile(f, text(all));
    let release: () => void = () => {};
    const gate = new Promise<void>((res) => {
      release = res;
    });
    let first = true;
    const r = runSource(plain(dir, { batchLines: 100 }), {}, async () => {
      if (first) {
        first = false;
        await gate;
      }
    });
    await r.waitFor(100);
    await unlink(f);
    release();
    await r.waitFor(5000);
    await r.waitProblem('file_deleted');
    // Let go: its position is deleted.
    await sleep(150);
    // Only a tombstone is left (for a `.gz` of it that may still come), holding where it ended.
    const left = Object.entries(r.positions());
    assert.equal(left.length, 1);
    assert.match(left[0]![0], /^gone:/);
    assert.equal((left[0]![1] as { offset: number }).offset, text(all).length);
    await writeFile(join(dir, 'b.log'), 'next file\n');
    await r.waitFor(5001);
    await r.stop();
    assert.deepEqual(r.bodies(), [...all, 'next file']);
  });

  test('fromStart: false starts existing files at their end on the first start only', async () => {
    await writeFile(join(dir, 'old.log'), 'old 1\nold 2\n');
    await writeFile(join(dir, 'old.log.1.gz'), gzipSync('rotated long ago\n'));
    const r = runSource(plain(dir, { fromStart: false }));
    await sleep(100);
    await appendFile(join(dir, 'old.log'), 'new 1\n');
    await writeFile(join(dir, 'fresh.log'), 'fresh 1\n');
    await r.waitFor(2);
    await sleep(100);
    await r.stop();
    assert.deepEqual(r.bodies().sort(), ['fresh 1', 'new 1']);
  });

  test('a .gz of a file already read is skipped; an unknown .gz is read whole', async () => {
    const f = join(dir, 'a.log');
    await writeFile(f, text(lines('one', 10)));
    await writeFile(join(dir, 'z-other.log.gz'), gzipSync(text(lines('gz', 4))));
    const r = runSource(plain(dir));
    await r.waitFor(14);
    // Rotate and compress the way logrotate/the kubelet do.
    await rename(f, `${f}.1`);
    await writeFile(f, 'two 0\n');
    await r.waitFor(15);
    await writeFile(`${f}.1.gz`, gzipSync(text(lines('one', 10))));
    await unlink(`${f}.1`);
    await sleep(200);
    await r.stop();
    assert.deepEqual(r.bodies().sort(), [...lines('one', 10), ...lines('gz', 4), 'two 0'].sort());
  });

  // A restart in the middle of a rotation: the kubelet's steps landing between the first scan's
  // listing, its stat and its open of a file with a saved position. Each of these used to drop
  // the saved position without a tombstone: the renamed file or its `.gz` was then read again from
  // its start, repeating acknowledged lines.
  describe('restart at the precise moments of a rotation', () => {
    /** Reads `a.log` (lines a 0..4), stops, appends b 0..2 unread: the saved positions. */
    const firstRun = async () => {
      await writeFile(join(dir, 'a.log'), text(lines('a', 5)));
      const r1 = runSource(plain(dir));
      await r1.waitFor(5);
      await r1.stop();
      await appendFile(join(dir, 'a.log'), text(lines('b', 3)));
      return r1.positions();
    };
    /** The rotation: `a.log` renamed to `a.log.1`, a new `a.log` (lines c 0..1). */
    const rotate = () => {
      renameSync(join(dir, 'a.log'), join(dir, 'a.log.1'));
      writeFileSync(join(dir, 'a.log'), text(lines('c', 2)));
    };
    /** The compression: `a.log.1.gz` (by a temporary name), then `a.log.1` removed. */
    const compress = async (unlinkToo = true) => {
      await writeFile(join(dir, 'a.gz.tmp'), gzipSync(await readFile(join(dir, 'a.log.1'))));
      await rename(join(dir, 'a.gz.tmp'), join(dir, 'a.log.1.gz'));
      if (unlinkToo) await unlink(join(dir, 'a.log.1'));
    };
    /** A file handler that runs `action` once, just before the first file ending in `suffix` is opened. */
    const onceOpening = (suffix: string, action: (path: string) => void) => {
      let first = true;
      return (path: string) => {
        if (first && path.endsWith(suffix)) {
          first = false;
          action(path);
        }
        return lineHandler();
      };
    };
    /** After the restart: every line the first run did not acknowledge, once, and nothing more. */
    const expectRest = async (r: ReturnType<typeof runSource>) => {
      await r.waitFor(5);
      // The rotated file compressed and removed while running: its `.gz` is not read again.
      if (!(await readdir(dir)).includes('a.log.1.gz')) await compress();
      await sleep(200);
      await r.stop();
      assert.deepEqual(r.bodies().sort(), [...lines('b', 3), ...lines('c', 2)].sort());
      // And a further restart from where this one got to reads nothing again.
      const r3 = runSource(plain(dir), r.positions());
      await sleep(200);
      await r3.stop();
      assert.deepEqual(r3.bodies(), []);
    };

    test('renamed and replaced between the listing and the stat (the saved file not found)', async () => {
      const saved = await firstRun();
      let first = true;
      const list = async () => (await readdir(dir)).filter((f) => /\.log/.test(f)).map((f) => join(dir, f));
      const r2 = runSource(
        plain(dir, {
          async discover() {
            const paths = await list();
            if (first) {
              first = false;
              rotate(); // the listing still says `a.log`: its stat finds the new file
            }
            return paths;
          },
        }),
        saved,
      );
      await expectRest(r2);
    });

    test('renamed and replaced between the stat and the open (another file under its name)', async () => {
      const saved = await firstRun();
      // Made just before the file is opened.
      const r2 = runSource(plain(dir, { handler: onceOpening('a.log', rotate) }), saved);
      await expectRest(r2);
    });

    test('compressed and removed between the stat and the open (the .gz already there)', async () => {
      const saved = await firstRun();
      rotate();
      await compress(false);
      const r2 = runSource(plain(dir, { handler: onceOpening('a.log.1', unlinkSync) }), saved);
      await expectRest(r2);
    });

    test('renamed then compressed and removed while the agent was down, at every step', async () => {
      // The saved state, then each prefix of the rotation's steps done while the agent is down.
      const steps: (() => Promise<void>)[] = [
        async () => renameSync(join(dir, 'a.log'), join(dir, 'a.log.1')),
        async () => writeFileSync(join(dir, 'a.log'), text(lines('c', 2))),
        () => compress(false),
        async () => unlink(join(dir, 'a.log.1')),
      ];
      for (let k = 0; k <= steps.length; k++) {
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir);
        const saved = await firstRun();
        for (const step of steps.slice(0, k)) await step();
        const r2 = runSource(plain(dir), saved);
        await r2.waitFor(3);
        for (const step of steps.slice(k)) await step();
        await r2.waitFor(5);
        await sleep(150);
        await r2.stop();
        assert.deepEqual(
          r2.bodies().sort(),
          [...lines('b', 3), ...lines('c', 2)].sort(),
          `down for ${k} steps`,
        );
      }
    });
  });
});
