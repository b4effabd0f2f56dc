/**
 * @module A worker thread of the receivers phase (bench/receivers-tcp.ts): fluent-logger sending
 * its share of the lines in PackedForward with acks required. fluent-logger encodes with
 * msgpack-lite at about 80,000 events/s on one core, so one thread cannot show what the receiver
 * takes; the phase runs several.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);

interface Job {
  readonly port: number;
  readonly lines: readonly string[];
  /** Microseconds since the epoch of the first line; line i is `startUs + offset + i`. */
  readonly startUs: number;
  readonly offset: number;
  readonly connections: number;
}

/** Events one connection emits between two turns of the event loop. */
const SLICE = 5000;

async function main(job: Job): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: fluent-logger is untyped here
  const fluent = require('fluent-logger') as any;
  // Loaded and given its lines: the phase starts the clock for every thread at once.
  await new Promise<void>((resolve) => {
    parentPort?.once('message', () => resolve());
    parentPort?.postMessage({ ready: true });
  });
  const quiet = { info() {}, error() {} };
  const eventTime = (i: number) => {
    const us = job.startUs + job.offset + i;
    return new fluent.EventTime(Math.floor(us / 1e6), (us % 1e6) * 1000);
  };
  await Promise.all(
    Array.from({ length: job.connections }, async (_, c) => {
      const s = fluent.createFluentSender('bench', {
        host: '127.0.0.1',
        port: job.port,
        eventMode: 'PackedForward',
        requireAckResponse: true,
        flushInterval: 5,
        sendQueueSizeLimit: 8 << 20,
        internalLogger: quiet,
      });
      // One callback for every event and a count, not a promise per event: the harness's own
      // allocations would take CPU from the sender and the server on the shared cores. Events are
      // emitted a slice at a time, the event loop let run between slices, as an application logs
      // over time: fluent-logger sends what has queued while the last chunk's ack is awaited, so
      // its encoding overlaps the server's work (one synchronous loop of all the events queued
      // them all, then sent one chunk of 50,000 per connection, the server idle until then).
      let left = 0;
      for (let i = c; i < job.lines.length; i += job.connections) left++;
      let done: (err?: Error) => void = () => {};
      const all = new Promise<void>((resolve, reject) => {
        if (left === 0) resolve();
        done = (err?: Error) => {
          if (err) reject(err);
          else if (--left === 0) resolve();
        };
      });
      let i = c;
      while (i < job.lines.length) {
        for (let k = 0; k < SLICE && i < job.lines.length; k++, i += job.connections) {
          s.emit('forward', { message: job.lines[i] }, eventTime(i), done);
        }
        await new Promise<void>((r) => setImmediate(r));
      }
      await all;
      s.end();
    }),
  );
}

main(workerData as Job).then(
  () => parentPort?.postMessage({ ok: true }),
  (err: unknown) => parentPort?.postMessage({ ok: false, error: String(err) }),
);
