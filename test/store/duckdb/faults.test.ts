/**
 * The embedded store under faults and concurrency: short writes (a full disk, a file-size limit),
 * seals racing with reads, steady writers that must not starve readers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DuckDbStore } from '../../../src/store/duckdb/duckdb-store.js';
import { collect, rec } from '../contract.js';

const T0 = 1_763_900_000_000_000_000n;
const sel = { tenant: 't', start: 0n, end: T0 + 10n ** 15n, matchers: [], lineFilters: [] };

test('writes cut short by a file-size limit are refused, and everything acknowledged survives', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-fault-'));
  const script = fileURLToPath(new URL('./append-under-limit.js', import.meta.url));
  // ulimit -f counts 1024-byte blocks: room for a few of the ~100 KB entries, not all six.
  const r = spawnSync('bash', ['-c', `ulimit -f 350 && exec "${process.execPath}" "${script}" "${dir}"`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const out = JSON.parse(r.stdout) as { acked: number[]; failed: number[] };
  assert.ok(out.acked.length >= 1, r.stdout + r.stderr);
  assert.ok(out.failed.length >= 1, 'the limit was reached');
  const store = new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000 });
  await store.open();
  try {
    const got = (await collect(store, { tenant: 't' })).map((e) => Number(e.body.split(':')[0]));
    assert.deepEqual(got, out.acked, 'exactly the acknowledged entries, readable after reopen');
    await store.append('t', [rec({ app: 'limit' }, T0 + 100n, 'after the fault')]);
    assert.equal(await store.count(sel), out.acked.length + 1);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('reads racing with seals see every append that resolved before them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-fault-'));
  const store = new DuckDbStore({ dir, maintenanceIntervalMs: 5, sealAfterMs: 1, segmentBytes: 2048 });
  await store.open();
  try {
    for (let i = 1; i <= 40; i++) {
      await store.append('t', [rec({ app: 'race' }, T0 + BigInt(i), `line ${i} ${'y'.repeat(200)}`)]);
      const counts = await Promise.all([store.count(sel), store.count(sel), store.count(sel)]);
      for (const c of counts) assert.ok(c >= i, `after ${i} appends a read saw ${c}`);
    }
    await store.settle();
    assert.equal(await store.count(sel), 40);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a read completes while writers keep appending', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-fault-'));
  const store = new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000 });
  await store.open();
  let stop = false;
  let n = 0;
  const writer = async () => {
    const deadline = Date.now() + 20_000;
    while (!stop && Date.now() < deadline) {
      const i = n++;
      await store.append('t', [rec({ app: 'busy' }, T0 + BigInt(i), `w ${i}`)]);
    }
  };
  try {
    const writers = [writer(), writer(), writer(), writer()];
    await store.append('t', [rec({ app: 'busy' }, T0 - 1n, 'first')]);
    const seen = await store.count(sel);
    const writersStillRunning = !stop;
    stop = true;
    await Promise.all(writers);
    assert.ok(writersStillRunning, 'the read did not wait for the writers to stop');
    assert.ok(seen >= 1);
  } finally {
    stop = true;
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('entries the store cannot keep are refused whole: too large, or before 1970', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-fault-'));
  const store = new DuckDbStore({ dir, maintenanceIntervalMs: 3_600_000 });
  await store.open();
  try {
    await assert.rejects(
      store.append('t', [
        rec({ app: 'big' }, T0, 'ok'),
        // 0.8 MB of NULs: written as a JSON string, \u0000 each, 4.8 MB encoded.
        rec({ app: 'big' }, T0 + 1n, '\u0000'.repeat(800_000)),
      ]),
      /too large to store/,
    );
    await assert.rejects(store.append('t', [rec({ app: 'old' }, -5n, 'before 1970')]), /before 1970/);
    assert.equal(await store.count(sel), 0, 'nothing of a refused append was stored');
    await store.append('t', [rec({ app: 'big' }, T0, 'still fine')]);
    assert.equal(await store.count(sel), 1);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a reader that stops after its first batch frees the query: many such readers do not exhaust memory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-early-'));
  const store = new DuckDbStore({
    dir,
    memoryLimit: '32MB',
    maintenanceIntervalMs: 3_600_000,
    sealAfterMs: 3_600_000,
    log: () => {},
  });
  await store.open();
  try {
    const t = 1_800_000_000_000_000_000n;
    for (let b = 0; b < 20; b++) {
      await store.append(
        't',
        Array.from({ length: 10_000 }, (_, i) =>
          rec(
            { app: `a${i % 20}` },
            t + BigInt(b * 10_000 + i) * 1000n,
            `level=info msg="hello ${b}-${i}" pad=${'x'.repeat(40)}`,
          ),
        ),
      );
    }
    await store.settle();
    const query = {
      tenant: 't',
      start: 0n,
      end: t * 2n,
      matchers: [],
      lineFilters: [],
      direction: 'backward' as const,
      limit: 5000,
    };
    for (let i = 0; i < 40; i++) {
      for await (const batch of store.entries(query)) {
        assert.ok(batch.length > 0);
        break;
      }
    }
    let n = 0;
    for await (const batch of store.entries(query)) n += batch.length;
    assert.equal(n, 5000);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
