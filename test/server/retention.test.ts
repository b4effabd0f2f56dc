/**
 * `kjournal serve --retention`: whole days older than the retention go at start (and hourly), and
 * entries older than the retention are refused at push time as Loki refuses too-old samples.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { allValues, pushJson, queryRange, removeDir, startServerProcess } from '../helpers/server-process.js';

const DAY = 86_400_000_000_000n;

test('--retention deletes old days and refuses entries it would delete', async () => {
  const now = BigInt(Date.now()) * 1_000_000n;
  const first = await startServerProcess();
  const r = await pushJson(first.url, {
    streams: [
      {
        stream: { app: 'ret' },
        values: [
          [(now - 3n * DAY).toString(), 'three days old'],
          [(now - 1000n).toString(), 'fresh'],
        ],
      },
    ],
  });
  assert.equal(r.status, 204, r.text);
  const range = {
    query: '{app="ret"}',
    start: (now - 4n * DAY).toString(),
    end: now.toString(),
    limit: '100',
  };
  assert.deepEqual(
    allValues(await queryRange(first.url, range)).map((v) => v[1]),
    ['three days old', 'fresh'],
  );
  await first.stop();

  const second = await startServerProcess({ dataDir: first.dataDir, args: ['--retention', '1d'] });
  try {
    assert.deepEqual(
      allValues(await queryRange(second.url, range)).map((v) => v[1]),
      ['fresh'],
    );
    // No day directory older than the retention is left (the data may still be in the log).
    const days = await readdir(join(first.dataDir, 'parts', 't0')).catch(() => [] as string[]);
    const cutoffDay = new Date(Number((now - DAY) / 1_000_000n)).toISOString().slice(0, 10);
    assert.ok(
      days.every((d) => d >= cutoffDay),
      days.join(),
    );
    const old = await pushJson(second.url, {
      streams: [{ stream: { app: 'ret' }, values: [[(now - 2n * DAY).toString(), 'too old now']] }],
    });
    assert.equal(old.status, 400);
    assert.match(old.text, /too old/);
    assert.match(old.text, /app="ret"/);
  } finally {
    await second.stop();
    await removeDir(first.dataDir);
  }
});
