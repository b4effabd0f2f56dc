/**
 * @module The entry of a decode worker (./decode-pool.ts): a `worker_threads` Worker that takes a
 * receiver's body (a transferred ArrayBuffer), decodes it with the receiver's own decoder
 * (./decode-jobs.ts) and answers the packed records (./decode-packed.ts) or the decoder's error.
 * Why a thread: UTF-8 decoding, the JSON bounds scan, `JSON.parse` and the walk into records were
 * most of the main thread's time for the JSON receivers, and the main thread was the bottleneck
 * with a second core idle.
 */
import { Buffer } from 'node:buffer';
import { parentPort } from 'node:worker_threads';
import { type DecodeJob, decodeJob, newDecodeState, toWireError } from './decode-jobs.js';
import { packBulk, packRecords } from './decode-packed.js';

/** A request to a worker. */
export interface DecodeRequest {
  readonly id: number;
  readonly job: DecodeJob;
  readonly body: ArrayBuffer;
  /** A test hook: the worker exits at once, as if it crashed. */
  readonly crash?: boolean;
}

const state = newDecodeState();
const port = parentPort;
port?.on('message', (m: DecodeRequest) => {
  if (m.crash) process.exit(70);
  try {
    const decoded = decodeJob(m.job, Buffer.from(m.body), state);
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
