/**
 * @module The embedded store's state file (`state.json`): how far the log is converted, and upper
 * bounds that spare the start a read of every part. Written atomically after each conversion.
 * Without one (deleted, or damaged: then moved to quarantine/), what was converted is worked out
 * from the file names, so that no part is taken for an unfinished conversion and deleted: a
 * conversion is complete through the greatest segment a part holds, except where log segments up
 * to it are still there (they are removed only after the state file is written, so such a
 * conversion may not have finished: its parts are redone).
 */
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdirDurable, writeFileAtomic } from '../../disk/fsync.js';
import type { LineLog } from '../../util/log.js';
import { lastConvertedOnDisk } from './parts.js';
import { segmentSeqsOnDisk } from './wal/wal.js';

export interface StoreState {
  readonly convertedThrough: number;
  /**
   * The greatest sequence number assigned when the state was written (an upper bound of those in
   * the parts), so that opening the store need not read every part.
   */
  readonly maxSeq?: string;
  /** Stream id → greatest time appended when the state was written (see dedupe.ts). */
  readonly heads?: Record<string, string>;
}

export const STATE_FILE = 'state.json';

/**
 * The state of the data directory `dir`. `quarantined` is true when a damaged state file was moved
 * to `quarantineDir`; what was done is told to `log`.
 */
export async function readState(
  dir: string,
  quarantineDir: string,
  log: LineLog,
): Promise<{ state: StoreState; quarantined: boolean }> {
  const path = join(dir, STATE_FILE);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let quarantined = false;
  if (text !== undefined) {
    try {
      const state = JSON.parse(text) as StoreState;
      if (Number.isSafeInteger(state.convertedThrough)) return { state, quarantined };
    } catch {
      // Damaged: set aside below.
    }
    await mkdirDurable(quarantineDir);
    await rename(path, join(quarantineDir, `${STATE_FILE}.${Date.now()}`));
    quarantined = true;
    log('store: state.json is damaged; it was moved to quarantine/ and is rebuilt from the files');
  }
  const last = await lastConvertedOnDisk(join(dir, 'parts'));
  if (last === 0) return { state: { convertedThrough: 0 }, quarantined };
  const [firstSegment] = await segmentSeqsOnDisk(join(dir, 'wal'));
  const through = firstSegment === undefined ? last : Math.min(last, firstSegment - 1);
  log(`store: no state file; parts through log segment ${through} count as converted`, 'info');
  return { state: { convertedThrough: through }, quarantined };
}

export function writeState(dir: string, state: StoreState): Promise<void> {
  return writeFileAtomic(join(dir, STATE_FILE), JSON.stringify(state));
}
