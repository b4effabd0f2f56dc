/**
 * @module `POST /upload` (api/journal-upload/upload.ts), refused on a full disk before it is read,
 * and its error replies: plain text as systemd-journal-remote answers, with the status and
 * Retry-After of api/http/receiver-errors.ts (503 for backpressure).
 */
import type { Journal } from '../../journal/journal.js';
import { receiverError, receiverErrorHeaders } from '../http/receiver-errors.js';
import { type ErrorHandler, type Router, text } from '../http/router.js';
import { guardWrites } from '../http/write-guard.js';
import { type JournalUploadOptions, journalUploadHandler } from './upload.js';

export interface JournalUploadApiOptions extends JournalUploadOptions {
  readonly journal: Pick<Journal, 'write' | 'admitWrite'>;
}

export const journalUploadErrorReply: ErrorHandler = (err) => {
  const e = receiverError(err, 503);
  const reply = text(e.status, `${e.message}\n`);
  return { ...reply, headers: { ...reply.headers, ...receiverErrorHeaders(e) } };
};

export function registerJournalUploadApi(router: Router, o: JournalUploadApiOptions): void {
  router.add(['POST'], '/upload', guardWrites(journalUploadHandler(o), o.journal), journalUploadErrorReply);
}
