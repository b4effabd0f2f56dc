import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { POSITIONS_FILE, PositionsStore } from '../../src/agent/positions.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});
const fresh = async () => {
  dir = await mkdtemp(join(tmpdir(), 'kj-positions-'));
  return dir;
};

test('a fresh state dir starts empty; commits survive a reload, per source', async () => {
  const d = await fresh();
  const p = new PositionsStore(join(d, 'state'));
  await p.load();
  assert.equal(p.ackedBatch, 0);
  assert.deepEqual(p.get('pods'), {});
  await p.commit(3, [
    { source: 'pods', positions: { a: { off: 10 }, b: 1 } },
    { source: 'audit', positions: { f: 5 } },
    { source: 'pods', positions: { a: { off: 20 }, b: null } },
  ]);
  const q = new PositionsStore(join(d, 'state'));
  await q.load();
  assert.equal(q.ackedBatch, 3);
  assert.deepEqual(q.get('pods'), { a: { off: 20 } });
  assert.deepEqual(q.get('audit'), { f: 5 });
  assert.deepEqual(q.get('journal'), {});
  // Only the file itself is left: the temporary file was renamed over it.
  assert.deepEqual(await readdir(join(d, 'state')), [POSITIONS_FILE]);
  // Mutating a returned copy does not change the store.
  q.get('pods').a = 'x';
  assert.deepEqual(q.get('pods'), { a: { off: 20 } });
});

test('ackedBatch never goes back; a corrupt file is an error naming it', async () => {
  const d = await fresh();
  const p = new PositionsStore(d);
  await p.load();
  await p.commit(5, []);
  await p.commit(4, [{ source: 's', positions: { k: 1 } }]);
  assert.equal(p.ackedBatch, 5);
  const saved = JSON.parse(await readFile(join(d, POSITIONS_FILE), 'utf8')) as { ackedBatch: number };
  assert.equal(saved.ackedBatch, 5);
  await writeFile(join(d, POSITIONS_FILE), '{"version":1,"ackedBa');
  await assert.rejects(new PositionsStore(d).load(), /positions\.json: not valid JSON/);
  await writeFile(join(d, POSITIONS_FILE), '{"something":"else"}');
  await assert.rejects(new PositionsStore(d).load(), /not a kjournal agent positions file/);
});
