/**
 * @module The journal's refusal of records (a full disk is journal/disk-full.ts). Each API turns it
 * into its reply: the Loki API and the ingest endpoints answer 400 with the message, as Loki's
 * distributor answers what it cannot store.
 */

/** Why records were refused: another class than the path's, or an entry the store cannot take. */
export type RefusalCode = 'STREAM_CLASS' | 'INVALID_ENTRY';

/** Records the journal refuses; nothing of the write was stored. */
export class RefusedRecordsError extends Error {
  override readonly name = 'RefusedRecordsError';

  constructor(
    readonly code: RefusalCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
