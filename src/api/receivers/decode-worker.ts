/**
 * @module The entry of a decode worker (./decode-pool.ts): a `worker_threads` Worker that takes a
 * receiver's body (a transferred ArrayBuffer), decodes it with the receiver's own decoder
 * (./decode-jobs.ts) and answers the packed records (./decode-packed.ts) or the decoder's error.
 * Why a thread: UTF-8 decoding, the JSON bounds scan, `JSON.parse` and the walk into records were
 * most of the main thread's time for the JSON receivers, and the main thread was the bottleneck
 * with a second core idle. A journal upload comes as pieces of one stream, each answered with its
 * records, the worker keeping the upload's parser between them (./decode-journal.ts).
 */
import { Buffer } from 'node:buffer';
import { parentPort } from 'node:worker_threads';
import { type DecodeJob, decodeJob, newDecodeState, toWireError } from './decode-jobs.js';
import { type JournalStreamJob, JournalStreams } from './decode-journal.js';
import { packBulk, packRecords } from './decode-packed.js';

/** A request to a worker: a body to decode, or a piece of a stream. */
export interface DecodeRequest {
  readonly id: number;
  readonly job: DecodeJob | JournalStreamJob;
  readonly body: ArrayBuffer;
  /** A test hook: the worker exits at once, as if it crashed. */
  readonly crash?: boolean;
}

/** A stream the handler gave up (its request failed or was aborted): drop its state. No answer. */
export interface DiscardRequest {
  readonly discard: number;
}

/** A test hook: how many streams the worker holds (answered as `streams`). */
export interface ProbeRequest {
  readonly id: number;
  readonly probe: 'streams';
}

export type WorkerRequest = DecodeRequest | DiscardRequest | ProbeRequest;

const state = newDecodeState();
const journals = new JournalStreams();
const port = parentPort;
port?.on('message', (m: WorkerRequest) => {
  if ('discard' in m) {
    journals.discard(m.discard);
    return;
  }
  if ('probe' in m) {
    port.postMessage({ id: m.id, streams: journals.size });
    return;
  }
  if (m.crash) process.exit(70);
  try {
    const job = m.job;
    if (job.kind === 'journal-chunk' || job.kind === 'journal-end') {
      const piece = journals.run(job, Buffer.from(m.body));
      port.postMessage(
        { id: m.id, ok: piece.packed, journal: { corrupt: piece.corrupt, reasons: piece.reasons } },
        piece.transfer,
      );
      return;
    }
    const decoded = decodeJob(job, Buffer.from(m.body), state);
    const { packed, transfer } = packRecords(decoded.records);
    if (decoded.bulk) {
      const bulk = packBulk(decoded.bulk.items, decoded.bulk.slot);
      port.postMessage({ id: m.id, ok: packed, bulk: bulk.packed }, [...transfer, ...bulk.transfer]);
    } else port.postMessage({ id: m.id, ok: packed }, transfer);
  } catch (err) {
    port.postMessage({ id: m.id, error: toWireError(err) });
  }
});
port?.postMessage('ready');
