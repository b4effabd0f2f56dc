/**
 * @module The write endpoints' admission on a full disk (journal/disk-full.ts says why and how):
 * a write handler refused before it reads its body while the data volume is low.
 */
import { DiskFullError, diskFullError } from '../../journal/disk-full.js';
import type { DiskSpaceWatch } from '../../util/disk-space.js';
import type { Handler } from './router.js';

/**
 * `handler` refused at once while `disk` is low (`onRefused` counts it); a DiskFullError from the
 * store path (ENOSPC) marks the watch low, so that the next writes are refused before they reach the
 * store.
 */
export function guardWrites(handler: Handler, disk: DiskSpaceWatch, onRefused?: () => void): Handler {
  return async (ctx) => {
    if (disk.low) {
      onRefused?.();
      throw diskFullError(disk);
    }
    try {
      return await handler(ctx);
    } catch (err) {
      if (err instanceof DiskFullError) disk.noteNoSpace();
      throw err;
    }
  };
}
