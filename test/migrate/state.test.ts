/**
 * The checkpoint of `kjournal migrate` (src/migrate/state.ts): completed units survive a reopen, a
 * torn last line (a kill while recording a unit) is dropped so that the unit is sent again, and a
 * state written for another target is refused.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dayName, dayOfName, dayStart } from '../../src/migrate/days.js';
import { MigrateError } from '../../src/migrate/errors.js';
import { MigrateState } from '../../src/migrate/state.js';

test('completed units survive a reopen; a torn last line is dropped; another target is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-migrate-state-'));
  const path = join(dir, 'sub', 'state.ndjson');
  try {
    const s1 = await MigrateState.open(path, 'data /a');
    await s1.complete({ tenant: 'fake', day: '2026-01-01', entries: 3 });
    await s1.complete({ tenant: 'fake', day: '2026-01-02', entries: 4 });
    await s1.close();
    // A kill while the third unit was being recorded: half a line.
    await appendFile(path, '{"tenant":"fake","day":"2026-01-0');
    const s2 = await MigrateState.open(path, 'data /a');
    assert.equal(s2.completed, 2);
    assert.ok(s2.isDone('fake', '2026-01-02'));
    assert.ok(!s2.isDone('fake', '2026-01-03'));
    assert.ok(!s2.isDone('other', '2026-01-01'));
    await s2.complete({ tenant: 'fake', day: '2026-01-03', entries: 5 });
    await s2.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    assert.equal(lines.length, 5, 'head, three units, and the final newline: the torn piece is gone');
    assert.deepEqual(JSON.parse(lines[3]!), { tenant: 'fake', day: '2026-01-03', entries: 5 });

    await assert.rejects(MigrateState.open(path, 'data /b'), (err: unknown) => {
      assert.ok(err instanceof MigrateError);
      assert.equal(err.code, 'MIGRATE_STATE');
      assert.match(err.message, /records a migration to data \/a, not to data \/b/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('UTC days: a timestamp falls in its day, named YYYY-MM-DD', () => {
  const d = dayOfName('2026-03-01');
  assert.equal(d, BigInt(Date.UTC(2026, 2, 1)) * 1_000_000n);
  assert.equal(dayStart(d), d);
  assert.equal(dayStart(d + 86_400_000_000_000n - 1n), d);
  assert.equal(dayName(dayStart(d - 1n)), '2026-02-28');
});
