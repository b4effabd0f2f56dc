/**
 * @module A journal upload's body (`POST /upload`, api/journal-upload/upload.ts) turned into records
 * piece by piece: the export format read as it arrives and each entry packed as a `kind=log`
 * record of its host (./journal-packer.ts), corrupt entries counted with their first reasons, and
 * one entry larger than the body limit refused (413). The same code runs in the handler (small
 * uploads, `--decode-workers 0`) and in a decode worker (./decode-worker.ts), where
 * `JournalStreams` keeps one packer per upload between its pieces (a sticky stream of
 * ./decode-pool.ts), so both paths give the same records and the same answers.
 */
import { JournalPacker, JournalTables, type PackedPiece } from './journal-packer.js';

/** A piece of an upload sent to a worker; the first opens the stream, `end` closes it. */
export type JournalStreamJob = ({ readonly kind: 'journal-chunk' } | { readonly kind: 'journal-end' }) & {
  readonly stream: number;
  readonly now: bigint;
  readonly maxBodyBytes: number;
  /** The stream's first piece: its decoder is made (a later piece of an unknown stream is an error). */
  readonly first?: boolean;
};

/** Streams one worker holds at most (the pool opens fewer: DECODE_STREAMS_PER_WORKER). */
export const JOURNAL_STREAMS_MAX = 64;

/**
 * A worker's open uploads, each with its decoder, by stream id. A stream is dropped at its end, on
 * its first error and when the handler discards it (a request that failed or was aborted).
 */
export class JournalStreams {
  private readonly streams = new Map<number, JournalPacker>();
  private readonly tables = new JournalTables();

  constructor(private readonly max = JOURNAL_STREAMS_MAX) {}

  /** The records of `body` for the stream of `job` (and the last entry at its end), packed. */
  run(job: JournalStreamJob, body: Buffer): PackedPiece {
    let packer = this.streams.get(job.stream);
    if (!packer) {
      // A later piece of a stream not held here: its worker was replaced, its state lost.
      if (!job.first) throw new Error(`journal stream ${job.stream} is not open in this worker`);
      if (this.streams.size >= this.max) throw new Error(`more than ${this.max} journal streams open`);
      packer = new JournalPacker(this.tables);
      this.streams.set(job.stream, packer);
    }
    const end = job.kind === 'journal-end';
    try {
      const piece = packer.push(body, job.now, end, job.maxBodyBytes);
      if (end) this.streams.delete(job.stream);
      return piece;
    } catch (err) {
      this.streams.delete(job.stream);
      throw err;
    }
  }

  discard(stream: number): void {
    this.streams.delete(stream);
  }

  /** Streams open (tests: none is left behind). */
  get size(): number {
    return this.streams.size;
  }
}
