/**
 * @module The Source contract (src/sources/source.ts): every source of `kjournal agent` runs this
 * suite through a driver that knows how to feed it (append to a file, send to a socket, write a
 * journal...). A source's test file calls `sourceContract('name', driver)`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import type { Positions, Source } from '../../src/sources/source.js';
import { runSource, type SourceRun } from '../helpers/source-run.js';

export interface SourceDriver {
  /** A new source over the input in `dir`, resuming from `positions`. */
  create(dir: string, positions: Positions): Promise<Source>;
  /** Makes these lines part of the source's input, in this order (after `create` for network sources). */
  produce(dir: string, lines: readonly string[]): Promise<void>;
  /** The record body that a produced line becomes (default: the line itself). */
  body?(line: string): string;
  /** Something the source must report and skip (a corrupt line, a bad frame), if the driver has one. */
  produceBad?(dir: string): Promise<void>;
  /** Network sources keep no positions: restart is not tested for them. */
  readonly resumable: boolean;
  /** Called after each test (stop servers, remove files). */
  cleanup?(dir: string): Promise<void>;
}

type Running = SourceRun;

function start(source: Source, positions: Positions, opts: { hold?: Promise<void> } = {}): Running {
  const { hold } = opts;
  return runSource(source, positions, hold && (() => hold));
}

async function stop(r: Running, ms = 5000): Promise<void> {
  r.controller.abort();
  const timer = new Promise<never>((_, reject) => {
    setTimeout(() => reject(new Error(`run() did not resolve within ${ms} ms of the abort`)), ms).unref();
  });
  await Promise.race([r.done, timer]);
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

export function sourceContract(name: string, driver: SourceDriver): void {
  describe(`Source contract: ${name}`, () => {
    let dir: string | undefined;
    const fresh = async () => {
      dir = await mkdtemp(join(tmpdir(), `kj-source-${name}-`));
      return dir;
    };
    afterEach(async () => {
      if (dir) {
        await driver.cleanup?.(dir);
        await rm(dir, { recursive: true, force: true });
        dir = undefined;
      }
    });
    const body = (line: string) => (driver.body ? driver.body(line) : line);

    test('emits what it reads, in order, as well-formed records', async () => {
      const d = await fresh();
      const lines = Array.from({ length: 25 }, (_, i) => `line ${i} of ${name}`);
      const source = await driver.create(d, {});
      assert.equal(typeof source.name, 'string');
      assert.ok(source.name.length > 0);
      const r = start(source, {});
      await driver.produce(d, lines);
      await r.waitFor(lines.length);
      await stop(r);
      assert.deepEqual(r.bodies(), lines.map(body));
      for (const b of r.batches) {
        for (const rec of b.records) {
          assert.equal(typeof rec.timestamp, 'bigint');
          assert.ok(rec.timestamp > 0n);
          assert.equal(typeof rec.observedTimestamp, 'bigint');
          assert.equal(typeof rec.labels, 'object');
          assert.equal(typeof rec.attributes, 'object');
          for (const v of Object.values(rec.attributes)) assert.equal(typeof v, 'string');
        }
      }
    });

    test('stops promptly when aborted, also while waiting for input', async () => {
      const d = await fresh();
      const r = start(await driver.create(d, {}), {});
      await new Promise((res) => setTimeout(res, 100));
      await stop(r, 3000);
    });

    test('never emits again before the previous batch was taken (back-pressure)', async () => {
      const d = await fresh();
      let release: () => void = () => {};
      const hold = new Promise<void>((res) => {
        release = res;
      });
      const r = start(await driver.create(d, {}), {}, { hold });
      await driver.produce(
        d,
        Array.from({ length: 50 }, (_, i) => `held ${i}`),
      );
      // The first batch, whatever it holds (a source may first emit an empty batch that only
      // saves a position, as the events source does after its first list).
      await until('a first batch', () => r.batches.length >= 1);
      await new Promise((res) => setTimeout(res, 200));
      // Held: exactly one batch so far (the assertion inside emit catches concurrent calls).
      assert.equal(r.batches.length, 1);
      release();
      await r.waitFor(50);
      await stop(r);
      assert.deepEqual(
        r.bodies(),
        Array.from({ length: 50 }, (_, i) => body(`held ${i}`)),
      );
    });

    if (driver.resumable) {
      test('resumes from acknowledged positions: nothing lost, nothing repeated', async () => {
        const d = await fresh();
        const first = Array.from({ length: 10 }, (_, i) => `before restart ${i}`);
        const r1 = start(await driver.create(d, {}), {});
        await driver.produce(d, first);
        await r1.waitFor(first.length);
        await stop(r1);
        const saved = r1.positions();
        const second = Array.from({ length: 10 }, (_, i) => `after restart ${i}`);
        await driver.produce(d, second);
        const r2 = start(await driver.create(d, saved), saved);
        await r2.waitFor(second.length);
        await new Promise((res) => setTimeout(res, 200));
        await stop(r2);
        assert.deepEqual(r2.bodies(), second.map(body));
      });
    }

    if (driver.produceBad) {
      test('reports bad input as a problem, skips it and goes on', async () => {
        const d = await fresh();
        const r = start(await driver.create(d, {}), {});
        await driver.produce(d, ['good before']);
        await r.waitFor(1);
        await driver.produceBad!(d);
        await driver.produce(d, ['good after']);
        await r.waitFor(2);
        await stop(r);
        assert.deepEqual(r.bodies(), [body('good before'), body('good after')]);
        assert.ok(r.problems.length >= 1, 'the bad input was reported');
        for (const p of r.problems) {
          assert.match(p.reason, /^[a-z_]+$/);
          assert.ok(p.message.length > 0);
        }
      });
    }
  });
}
