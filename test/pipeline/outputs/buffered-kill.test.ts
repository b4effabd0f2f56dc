/**
 * BufferedOutput survives kill -9: a child enqueues (its peer takes a few batches, then is down) and
 * is killed with SIGKILL mid-stream; a new BufferedOutput on the same directory sends every record
 * the child had fsynced, in order, with nothing missing (at least once: the batch in flight at the
 * kill may come twice).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { BufferedOutput } from '../../../src/pipeline/outputs/buffered.js';
import { MemoryOutput, until } from '../helpers.js';

const CHILD = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'helpers',
  'buffered-output-child.js',
);

/** Runs the child until it reports at least `min` durable records and its peer down, then SIGKILLs it. */
function runAndKill(dir: string, sentFile: string, min: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, sentFile, '3'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let durable = 0;
    let down = false;
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) {
        if (l === 'down') down = true;
        else durable = Math.max(durable, Number(l.split(' ')[1]));
      }
      // Not before the peer went down: with fast fsyncs, `min` records may be durable before the
      // sender has had its turn, and the kill would then come before the peer took its batches.
      if (durable >= min && down) child.kill('SIGKILL');
    });
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(durable);
      else reject(new Error(`child exited with ${code} before the kill`));
    });
  });
}

test('kill -9: every fsynced record is sent after a restart, in order', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-buffered-kill-'));
  try {
    const sentFile = join(dir, 'sent.txt');
    await writeFile(sentFile, '');
    const durable = await runAndKill(join(dir, 'state'), sentFile, 300);
    const before = (await readFile(sentFile, 'utf8')).split('\n').filter(Boolean);
    assert.ok(before.length >= 21, `the peer took its batches before going down (${before.length})`);
    assert.deepEqual(
      before,
      before.map((_, i) => `r${i}`),
    );

    const out = new MemoryOutput('killme');
    const b = await BufferedOutput.open({
      output: out,
      dir: join(dir, 'state'),
      maxBytes: 64 << 20,
      batch: { maxRecords: 100, maxBytes: 1 << 20, maxWaitMs: 5 },
      retry: { minBackoffMs: 5, maxBackoffMs: 20 },
      registry: new Registry(),
      log: () => undefined,
    });
    try {
      await until(
        () => out.bodies.length >= durable - before.length,
        10_000,
        'the records after the restart',
      );
      await b.idle();
      const after = out.bodies;
      const first = Number(after[0]!.slice(1));
      // Nothing already acknowledged comes again except, at most, the batch in flight at the kill.
      assert.ok(
        first <= before.length && first >= before.length - 10,
        `resumes at r${first} after ${before.length}`,
      );
      assert.deepEqual(
        after,
        after.map((_, i) => `r${first + i}`),
      );
      assert.ok(first + after.length >= durable, `${first + after.length} sent of ${durable} durable`);
      t.diagnostic(
        `peer took ${before.length} before the kill; ${durable} durable; r${first}.. r${first + after.length - 1} after`,
      );
    } finally {
      await b.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
