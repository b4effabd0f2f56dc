/**
 * @module The write endpoints' admission on a full disk (journal/disk-full.ts says why and how):
 * a write handler is refused before it reads its body while the journal does not admit writes.
 */
import type { Journal } from '../../journal/journal.js';
import type { Handler } from './router.js';

/**
 * `handler` refused at once while the journal refuses writes (`onRefused` counts it); the journal
 * itself notes a write that met ENOSPC, so that the next writes are refused before they are read.
 */
export function guardWrites(
  handler: Handler,
  journal: Pick<Journal, 'admitWrite'>,
  onRefused?: () => void,
): Handler {
  return async (ctx) => {
    try {
      journal.admitWrite();
    } catch (err) {
      onRefused?.();
      throw err;
    }
    return handler(ctx);
  };
}
