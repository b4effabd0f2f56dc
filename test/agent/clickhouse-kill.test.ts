/**
 * The agent shipping into `kjournal serve --clickhouse-url` while ClickHouse is killed mid-ingest
 * (SIGKILL, as a lost node) and started again on the same data (issue 16, "durable and honest"):
 * pushes answer 503 while it is gone, the agent retries, and every line is stored exactly once
 * (counted in ClickHouse itself and read back through the server, bodies compared).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Agent } from '../../src/agent/agent.js';
import { nowNs } from '../../src/model/time.js';
import { clientFor, linesOf, tally, until } from '../helpers/agent-e2e.js';
import { CounterSource } from '../helpers/agent-sources.js';
import { startClickHouse } from '../helpers/clickhouse.js';
import { chSql, startClickHouseServe } from '../helpers/clickhouse-e2e.js';
import { removeDir } from '../helpers/server-process.js';

const DB = 'kj_agent';

test('ClickHouse killed mid-ingest and started again: every line stored exactly once', async (t) => {
  const ch = await startClickHouse();
  const srv = await startClickHouseServe(ch.url, DB);
  const stateDir = await mkdtemp(join(tmpdir(), 'kj-chagent-'));
  const total = 3000;
  const base = nowNs() - 60_000_000_000n;
  const source = new CounterSource({
    total,
    perBatch: 10,
    delayMs: 3,
    baseNs: base,
    labels: { job: 'chkill' },
  });
  const agent = new Agent({
    sources: [source],
    client: clientFor(srv.url),
    stateDir,
    batchMaxWaitMs: 20,
    batchMaxBytes: 4096,
    retry: { baseDelayMs: 20, maxDelayMs: 200 },
    log: () => undefined,
  });
  const acked = () => (agent.positions.get('counter').next as number | undefined) ?? 0;
  try {
    await agent.start();
    await until('positions past 800', () => acked() >= 800, 20_000);
    await ch.kill();
    const atKill = acked();
    await until(
      'more read while ClickHouse is down',
      () => source.taken >= Math.min(total, atKill + 300),
      20_000,
    );
    assert.ok(atKill < total - 300, `killed mid-ingest (${atKill} acknowledged)`);
    // Nothing is acknowledged while ClickHouse is gone (only what was in flight at the kill).
    await new Promise((r) => setTimeout(r, 1000));
    const whileDown = acked();
    assert.ok(whileDown <= atKill + 100, `no acks without ClickHouse: ${atKill} → ${whileDown}`);
    assert.ok((await agent.metrics.retries.get()).values[0]!.value > 0, 'the agent retried');
    await ch.start();
    await until('everything acknowledged', () => acked() === total, 30_000);
    t.diagnostic(`killed at ${atKill} acknowledged; ${whileDown} when it came back`);

    const [count, distinct] = (
      await chSql(ch.url, `SELECT count(), uniqExact(body) FROM ${DB}.entries FORMAT TSV`)
    )
      .trim()
      .split('\t');
    assert.equal(count, String(total), 'rows in ClickHouse');
    assert.equal(distinct, String(total), 'distinct bodies in ClickHouse');
    const lines = await linesOf(srv.url, 'chkill', base, base + BigInt(total) * 1000n);
    assert.equal(lines.length, total);
    const { missing, repeated } = tally(lines, total);
    assert.deepEqual(missing, [], 'no line lost');
    assert.deepEqual(repeated, [], 'no line repeated');
  } finally {
    await agent.stop();
    await srv.stop();
    await removeDir(srv.dataDir);
    await rm(stateDir, { recursive: true, force: true });
    await ch.stop();
  }
});
