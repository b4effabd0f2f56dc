/**
 * @module `POST /upload` (api/journal-upload/upload.ts), refused before it is read while the disk is
 * full or writes queue (api/receivers/intake.ts),
 * and its error replies: plain text as systemd-journal-remote answers, with the status and
 * Retry-After of api/receivers/errors.ts (503 for backpressure).
 */

import { type ErrorHandler, type Router, text } from '../http/router.js';
import { guardWrites } from '../http/write-guard.js';
import { receiverError, receiverErrorHeaders } from '../receivers/errors.js';
import { type JournalUploadOptions, journalUploadHandler } from './upload.js';

export const journalUploadErrorReply: ErrorHandler = (err) => {
  const e = receiverError(err, 503);
  const reply = text(e.status, `${e.message}\n`);
  return { ...reply, headers: { ...reply.headers, ...receiverErrorHeaders(e) } };
};

export function registerJournalUploadApi(router: Router, o: JournalUploadOptions): void {
  router.add(['POST'], '/upload', guardWrites(journalUploadHandler(o), o.intake), journalUploadErrorReply);
}
