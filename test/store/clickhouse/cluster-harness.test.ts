/**
 * The ClickHouse cluster harness (test/helpers/clickhouse.ts, issue 16): two shards on loopback
 * with a Distributed table over local MergeTree tables, `ON CLUSTER` DDL and ReplicatedMergeTree
 * with Debian's ZooKeeper (which .ci/run installs), and one node stopped and started again on the
 * same data and port (the fault tests' "ClickHouse goes away mid-ingest").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startClickHouse, startClickHouseCluster, zooKeeperInstalled } from '../../helpers/clickhouse.js';

/** Runs SQL over HTTP; `settings` go in the URL (18.16 has no SET without a session). */
async function q(url: string, sql: string, settings: Record<string, string> = {}): Promise<string> {
  const u = new URL(url);
  for (const [k, v] of Object.entries(settings)) u.searchParams.set(k, v);
  // A failed fetch names its cause (a reset kept-alive socket, a server gone), not just "fetch failed".
  const r = await fetch(u, { method: 'POST', body: sql }).catch((err: unknown) => {
    const cause = (err as { cause?: { message?: string; code?: string } }).cause;
    throw new Error(
      `${sql.slice(0, 60)}… to ${u.host}: ${cause?.code ?? ''} ${cause?.message ?? String(err)}`,
      {
        cause: err,
      },
    );
  });
  const text = await r.text();
  assert.equal(r.status, 200, `${sql}: ${text}`);
  return text;
}

const ROWS = 1000;

test('two shards: an insert through the Distributed table is split by the sharding key, and read back whole', async () => {
  const t0 = Date.now();
  const cl = await startClickHouseCluster({ zooKeeper: false });
  const startup = Date.now() - t0;
  try {
    process.stdout.write(`# two-shard cluster (no ZooKeeper) started in ${startup} ms\n`);
    assert.equal(cl.urls.length, 2);
    assert.equal(cl.url, cl.urls[0]);
    assert.equal(cl.zooKeeper, undefined);
    for (const url of cl.urls) {
      await q(
        url,
        'CREATE TABLE t_local (d Date, stream UInt64, x UInt64) ENGINE = MergeTree PARTITION BY d ORDER BY (stream, x)',
      );
      await q(url, `CREATE TABLE t AS t_local ENGINE = Distributed(${cl.cluster}, default, t_local, stream)`);
    }
    // The macros say which node is which.
    assert.equal(await q(cl.urls[1]!, "SELECT substitution FROM system.macros WHERE macro = 'shard'"), '2\n');
    await q(
      cl.url,
      `INSERT INTO t SELECT toDate('2026-01-01'), number % 10, number FROM system.numbers LIMIT ${ROWS}`,
      { insert_distributed_sync: '1' },
    );
    // Synchronous: every row is in its shard's local table when the insert returns. Stream s goes
    // to shard s % 2 (weights 1 and 1): even streams on shard 1, odd on shard 2.
    assert.equal(await q(cl.urls[0]!, 'SELECT count(), sum(stream % 2) FROM t_local'), `${ROWS / 2}\t0\n`);
    assert.equal(await q(cl.urls[1]!, 'SELECT count(), min(stream % 2) FROM t_local'), `${ROWS / 2}\t1\n`);
    for (const url of cl.urls) {
      assert.equal(await q(url, 'SELECT count(), uniqExact(x) FROM t'), `${ROWS}\t${ROWS}\n`);
    }
  } finally {
    await cl.stop();
  }
});

test('two shards with ZooKeeper: CREATE TABLE ... ON CLUSTER creates the table on both nodes', async () => {
  assert.ok(
    zooKeeperInstalled(),
    'Debian zookeeper package (installed by .ci/run: apt-get install zookeeper)',
  );
  const t0 = Date.now();
  const cl = await startClickHouseCluster();
  const startup = Date.now() - t0;
  try {
    process.stdout.write(`# two-shard cluster with ZooKeeper started in ${startup} ms\n`);
    assert.ok(cl.zooKeeper);
    await q(
      cl.url,
      `CREATE TABLE c_local ON CLUSTER ${cl.cluster} (d Date, stream UInt64, x UInt64) ENGINE = MergeTree PARTITION BY d ORDER BY (stream, x)`,
    );
    await q(
      cl.url,
      `CREATE TABLE c ON CLUSTER ${cl.cluster} AS c_local ENGINE = Distributed(${cl.cluster}, default, c_local, stream)`,
    );
    for (const url of cl.urls) {
      assert.equal(
        await q(url, "SELECT name FROM system.tables WHERE database = 'default' ORDER BY name"),
        'c\nc_local\n',
      );
    }
    await q(
      cl.urls[1]!,
      `INSERT INTO c SELECT toDate('2026-01-01'), number, number FROM system.numbers LIMIT ${ROWS}`,
      {
        insert_distributed_sync: '1',
      },
    );
    assert.equal(await q(cl.urls[0]!, 'SELECT count() FROM c_local'), `${ROWS / 2}\n`);
    assert.equal(await q(cl.urls[1]!, 'SELECT count() FROM c_local'), `${ROWS / 2}\n`);
    assert.equal(await q(cl.url, 'SELECT count() FROM c'), `${ROWS}\n`);
  } finally {
    await cl.stop();
  }
});

test('two shards of two replicas: ReplicatedMergeTree ON CLUSTER, a quorum insert reaches both replicas', async () => {
  assert.ok(
    zooKeeperInstalled(),
    'Debian zookeeper package (installed by .ci/run: apt-get install zookeeper)',
  );
  const t0 = Date.now();
  const cl = await startClickHouseCluster({ replicas: true });
  const startup = Date.now() - t0;
  try {
    process.stdout.write(`# 2x2 replicated cluster with ZooKeeper started in ${startup} ms\n`);
    assert.equal(cl.nodes.length, 4);
    assert.deepEqual(
      cl.nodes.map((n) => `${n.shard}${n.replica}`),
      ['1r1', '1r2', '2r1', '2r2'],
    );
    await q(
      cl.url,
      `CREATE TABLE r_local ON CLUSTER ${cl.cluster} (d Date, stream UInt64, x UInt64) ` +
        "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/r_local', '{replica}') PARTITION BY d ORDER BY (stream, x)",
    );
    await q(
      cl.url,
      `CREATE TABLE r ON CLUSTER ${cl.cluster} AS r_local ENGINE = Distributed(${cl.cluster}, default, r_local, stream)`,
    );
    // internal_replication: the Distributed table writes one replica of each shard and the
    // quorum waits until the other has the part too.
    await q(
      cl.url,
      `INSERT INTO r SELECT toDate('2026-01-01'), number, number FROM system.numbers LIMIT ${ROWS}`,
      {
        insert_distributed_sync: '1',
        insert_quorum: '2',
      },
    );
    for (const n of cl.nodes) {
      assert.equal(
        await q(n.url, 'SELECT count() FROM r_local'),
        `${ROWS / 2}\n`,
        `shard ${n.shard} ${n.replica}`,
      );
    }
    assert.equal(await q(cl.nodes[3]!.url, 'SELECT count() FROM r'), `${ROWS}\n`);
  } finally {
    await cl.stop();
  }
});

test('one node killed and started again keeps its data, its port and its URL', async () => {
  const ch = await startClickHouse();
  try {
    await q(ch.url, 'CREATE TABLE k (d Date, x UInt64) ENGINE = MergeTree PARTITION BY d ORDER BY x');
    await q(ch.url, "INSERT INTO k SELECT toDate('2026-01-01'), number FROM system.numbers LIMIT 100");
    const pid = ch.child.pid;
    await ch.kill();
    await assert.rejects(fetch(`${ch.url}/ping`), 'down while killed');
    await ch.kill(); // a second kill is a no-op
    await ch.start();
    assert.notEqual(ch.child.pid, pid, 'a new process');
    assert.equal(await q(ch.url, 'SELECT count() FROM k'), '100\n');
    await q(ch.url, "INSERT INTO k SELECT toDate('2026-01-02'), number FROM system.numbers LIMIT 10");
    await ch.restart();
    assert.equal(await q(ch.url, 'SELECT count() FROM k'), '110\n');
  } finally {
    await ch.stop();
  }
});
