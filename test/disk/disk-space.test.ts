/**
 * The disk watermark and its watch (disk/disk-space.ts), with a fake statfs: when writes pause and
 * resume, and that an ENOSPC is not undone by a sample taken before it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_MIN_FREE,
  type DiskSample,
  DiskSpaceWatch,
  describeWatermark,
  isNoSpaceError,
  parseMinFree,
  watermarkBytes,
} from '../../src/disk/disk-space.js';

const MiB = 1 << 20;
const GiB = 1 << 30;

test('--min-free-disk takes a size, a percentage or 0', () => {
  assert.deepEqual(parseMinFree('2GiB'), { bytes: 2 * GiB });
  assert.deepEqual(parseMinFree('5%'), { percent: 5 });
  assert.deepEqual(parseMinFree('0.5 %'), { percent: 0.5 });
  assert.deepEqual(parseMinFree('0'), { bytes: 0 });
  assert.equal(parseMinFree('101%'), undefined);
  assert.equal(parseMinFree('lots'), undefined);
  assert.equal(parseMinFree('-1'), undefined);
});

test('the default is 1GiB or 5% of the volume, whichever is smaller', () => {
  assert.equal(watermarkBytes(DEFAULT_MIN_FREE, 10 * GiB), Math.floor(0.5 * GiB));
  assert.equal(watermarkBytes(DEFAULT_MIN_FREE, 1000 * GiB), GiB);
  assert.equal(watermarkBytes({ bytes: 0 }, 1000 * GiB), 0);
  assert.equal(watermarkBytes({ percent: 10 }, 100 * MiB), 10 * MiB);
  assert.equal(describeWatermark(DEFAULT_MIN_FREE), '1.0GiB or 5% of the volume, whichever is smaller');
});

test('ENOSPC and EDQUOT are a full disk; other errors are not', () => {
  assert.ok(isNoSpaceError(Object.assign(new Error('x'), { code: 'ENOSPC' })));
  assert.ok(isNoSpaceError(Object.assign(new Error('x'), { code: 'EDQUOT' })));
  assert.ok(!isNoSpaceError(Object.assign(new Error('x'), { code: 'EIO' })));
  assert.ok(!isNoSpaceError(undefined));
});

/** A watch over a fake volume of 100MiB whose free space the test sets. */
function fakeWatch(minFree: Parameters<typeof watermarkBytes>[0]) {
  const volume = { free: 50 * MiB };
  let gate: Promise<void> | undefined;
  const changes: boolean[] = [];
  const watch = new DiskSpaceWatch({
    dir: '/nowhere',
    minFree,
    intervalMs: 3_600_000,
    onChange: (low) => changes.push(low),
    sample: async (): Promise<DiskSample> => {
      // The free space as it was when the sample began.
      const free = volume.free;
      await gate;
      return { free, total: 100 * MiB };
    },
  });
  return {
    volume,
    watch,
    changes,
    hold(): () => void {
      let open!: () => void;
      gate = new Promise<void>((r) => {
        open = r;
      });
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

test('under the watermark the watch is low; it resumes by itself when a sample finds room', async () => {
  const { volume, watch, changes } = fakeWatch({ bytes: 10 * MiB });
  await watch.start();
  assert.equal(watch.low, false);
  volume.free = 9 * MiB;
  assert.equal(watch.low, false, 'nothing changes between samples (no statfs per request)');
  await watch.refresh();
  assert.equal(watch.low, true);
  let resumed = false;
  const waiting = watch.waitForRoom().then(() => {
    resumed = true;
  });
  volume.free = 11 * MiB;
  await watch.refresh();
  await waiting;
  assert.equal(resumed, true);
  assert.equal(watch.low, false);
  assert.deepEqual(changes, [true, false]);
  watch.stop();
});

test('after ENOSPC the watch stays low until a sample begun afterwards finds at least 1MiB', async () => {
  const { volume, watch, hold } = fakeWatch({ bytes: 0 });
  await watch.start();
  // A sample that began before the ENOSPC (plenty free then) must not end the pause.
  const release = hold();
  const stale = watch.refresh();
  volume.free = 0;
  watch.noteNoSpace();
  assert.equal(watch.low, true);
  assert.equal(watch.metNoSpace, true);
  release();
  await stale;
  assert.equal(watch.low, true, 'a stale sample does not undo the ENOSPC');
  volume.free = 512 * 1024;
  await watch.refresh();
  assert.equal(watch.low, true, 'half a MiB is not room yet');
  volume.free = 2 * MiB;
  await watch.refresh();
  assert.equal(watch.low, false);
  assert.equal(watch.metNoSpace, false);
  watch.stop();
});

test('waitForRoom ends when the signal aborts, and at once when not low', async () => {
  const { volume, watch } = fakeWatch({ bytes: 10 * MiB });
  volume.free = MiB;
  await watch.start();
  assert.equal(watch.low, true);
  const ac = new AbortController();
  const waiting = watch.waitForRoom(ac.signal);
  ac.abort();
  await waiting;
  volume.free = 20 * MiB;
  await watch.refresh();
  await watch.waitForRoom();
  watch.stop();
});
