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
      // allocations would take CPU from the sender and the server on the shared cores.
      await new Promise<void>((resolve, reject) => {
        let left = 0;
        const done = (err?: Error) => {
          if (err) reject(err);
          else if (--left === 0) resolve();
        };
        for (let i = c; i < job.lines.length; i += job.connections) left++;
        if (left === 0) resolve();
        for (let i = c; i < job.lines.length; i += job.connections) {
          s.emit('forward', { message: job.lines[i] }, eventTime(i), done);
        }
      });
      s.end();
    }),
  );
}

main(workerData as Job).then(
  () => parentPort?.postMessage({ ok: true }),
  (err: unknown) => parentPort?.postMessage({ ok: false, error: String(err) }),
);
