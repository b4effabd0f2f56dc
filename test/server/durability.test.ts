/**
 * A push that was acknowledged survives `kill -9` of the server; the restart replays without
 * duplicates. The kill lands while more pushes are in flight.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allValues, pushJson, queryRange, removeDir, startServerProcess } from '../helpers/server-process.js';

test('every acknowledged line survives SIGKILL, once, across two restarts', async () => {
  const server = await startServerProcess();
  const base = BigInt(Date.now()) * 1_000_000n - 60_000_000_000n;
  const acked = new Set<string>();
  let next = 0;
  let killed = false;

  const pusher = async (): Promise<void> => {
    while (!killed) {
      const batch: [string, string][] = [];
      for (let i = 0; i < 200; i++) {
        const n = next++;
        batch.push([(base + BigInt(n)).toString(), `durable line ${n}`]);
      }
      try {
        const r = await pushJson(server.url, {
          streams: [{ stream: { app: 'durable', namespace: 'shop', pod: 'p' }, values: batch }],
        });
        if (r.status === 204) for (const [, line] of batch) acked.add(line);
      } catch {
        return; // the connection died with the server: this batch was not acknowledged
      }
    }
  };
  const pushers = [pusher(), pusher(), pusher()];
  // Let conversions to Parquet happen too, so the kill can land in any phase.
  await new Promise((r) => setTimeout(r, 2500));
  killed = true;
  await server.stop('SIGKILL');
  await Promise.all(pushers);
  assert.ok(acked.size > 1000, `enough acknowledged lines to mean something (${acked.size})`);

  for (let round = 1; round <= 2; round++) {
    const again = await startServerProcess({ dataDir: server.dataDir });
    try {
      const seen = new Map<string, number>();
      // Read everything back in pages, newest first, by narrowing `end`.
      let end = (base + BigInt(next) + 1n).toString();
      for (;;) {
        const page = allValues(
          await queryRange(again.url, {
            query: '{app="durable"}',
            limit: '5000',
            direction: 'backward',
            start: (base - 1n).toString(),
            end,
          }),
        );
        if (page.length === 0) break;
        for (const [, line] of page) seen.set(line, (seen.get(line) ?? 0) + 1);
        end = (BigInt(page[0]![0]) - 1n).toString();
      }
      for (const line of acked)
        assert.equal(seen.get(line), 1, `round ${round}: ${line} present exactly once`);
      for (const [line, n] of seen) assert.equal(n, 1, `round ${round}: ${line} not duplicated`);
    } finally {
      await again.stop(round === 1 ? 'SIGKILL' : 'SIGTERM');
    }
  }
  await removeDir(server.dataDir);
});
