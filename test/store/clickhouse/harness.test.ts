/**
 * The ClickHouse test harness (test/helpers/clickhouse.ts): a private clickhouse-server starts on
 * loopback, answers SQL over its HTTP interface, and stop() kills it and removes its directory.
 */
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startClickHouse } from '../../helpers/clickhouse.js';

test('a private clickhouse-server answers SELECT 1 over HTTP and stop() removes it', async () => {
  const ch = await startClickHouse();
  try {
    const res = await fetch(`${ch.url}/?query=${encodeURIComponent('SELECT 1')}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '1\n');
    // The generated config selects ZSTD for parts (issue 16). A compressed block is a 16-byte
    // checksum, then the method byte: 0x82 for LZ4 (the default), 0x90 for ZSTD.
    const q = async (sql: string) => {
      const r = await fetch(ch.url, { method: 'POST', body: sql });
      assert.equal(r.status, 200, await r.clone().text());
      return r.text();
    };
    await q('CREATE TABLE t (d Date, x UInt64) ENGINE = MergeTree(d, x, 8192)');
    await q("INSERT INTO t SELECT toDate('2026-01-01'), number FROM system.numbers LIMIT 1000");
    assert.equal(await q('SELECT count() FROM t'), '1000\n');
    const part = (await q("SELECT name FROM system.parts WHERE table = 't' AND active")).trim();
    const bin = await readFile(join(ch.dir, 'data', 'data', 'default', 't', part, 'x.bin'));
    assert.equal(bin[16], 0x90, 'parts are ZSTD-compressed');
  } finally {
    await ch.stop();
  }
  await assert.rejects(access(ch.dir), 'its directory is removed');
  await assert.rejects(fetch(`${ch.url}/ping`), 'it no longer listens');
});
