/**
 * `kjournal serve` on a replicated ClickHouse cluster (two shards of two replicas, Debian's
 * ZooKeeper), configured as README's "When one machine is not enough" says: `cluster` and
 * `replicated: true` under `clickhouse:` in the --config file. The local tables are
 * ReplicatedMergeTree, a push is on both replicas of its shard when it is acknowledged (quorum),
 * and with a replica of every shard down pushes answer 503 with Retry-After and ClickHouse's reason,
 * until the replicas are back.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ClickHouseCluster, startClickHouseCluster } from '../helpers/clickhouse.js';
import { chSql, nsNow } from '../helpers/clickhouse-e2e.js';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

test('replicated: true: ReplicatedMergeTree, quorum inserts, 503 while a replica is down', async (t) => {
  let cl: ClickHouseCluster | undefined;
  let srv: ServerProcess | undefined;
  try {
    cl = await startClickHouseCluster({ replicas: true });
    const dataDir = await mkdtemp(join(tmpdir(), 'kj-chrepl-'));
    const config = join(dataDir, 'serve.yaml');
    await writeFile(
      config,
      `clickhouse:\n  url: ${cl.url}\n  database: kj_repl\n  cluster: ${cl.cluster}\n  replicated: true\n`,
    );
    srv = await startServerProcess({ dataDir, args: ['--config', config] });
    const push = (line: string, stream: Record<string, string>, ts = nsNow()) =>
      pushJson(srv!.url, { streams: [{ stream, values: [[String(ts), line]] }] });

    const create = await chSql(cl.nodes[0]!.url, 'SHOW CREATE TABLE kj_repl.entries_local');
    assert.match(create, /ReplicatedMergeTree/);
    const streams = Array.from({ length: 8 }, (_, i) => ({ app: `s${i}` }));
    for (const s of streams) {
      const r = await push('acknowledged', s);
      assert.equal(r.status, 204, r.text);
    }
    // Acknowledged means on both replicas of its shard: every replica has its shard's rows.
    const counts = await Promise.all(
      cl.nodes.map(async (n) =>
        Number((await chSql(n.url, 'SELECT count() FROM kj_repl.entries_local')).trim()),
      ),
    );
    t.diagnostic(`rows per node (s1r1, s1r2, s2r1, s2r2): ${counts}`);
    assert.equal(counts[0], counts[1]);
    assert.equal(counts[2], counts[3]);
    assert.equal(counts[0]! + counts[2]!, streams.length);

    const second = cl.nodes.filter((n) => n.replica === 'r2');
    await Promise.all(second.map((n) => n.kill()));
    const asked = Date.now();
    const noQuorumTs = nsNow();
    const refused = await push('no quorum', { app: 's0' }, noQuorumTs);
    t.diagnostic(`answered after ${Date.now() - asked} ms`);
    assert.ok(Date.now() - asked < 20_000, 'within the quorum timeout, not ClickHouse default 600 s');
    assert.equal(refused.status, 503, refused.text);
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After');
    assert.match(refused.text, /^ClickHouse refused the write: /);
    t.diagnostic(refused.text.trim());

    await Promise.all(second.map((n) => n.start()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await push('after the replicas came back', { app: 's1' });
      if (r.status === 204) break;
      if (Date.now() > deadline) throw new Error(`pushes still fail: ${r.status} ${r.text}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    // The refused push retried, as a client does: stored once (its part may have reached one
    // replica before the timeout; the retry's de-duplication finds it there).
    const retried = await push('no quorum', { app: 's0' }, noQuorumTs);
    assert.equal(retried.status, 204, retried.text);
    const copies = await chSql(
      cl.url,
      "SELECT count() FROM kj_repl.entries WHERE body = 'no quorum' SETTINGS select_sequential_consistency = 0",
    );
    assert.equal(copies.trim(), '1', 'stored exactly once');
  } finally {
    await srv?.stop();
    if (srv) await removeDir(srv.dataDir);
    await cl?.stop();
  }
});
