/**
 * @module A journal upload's body (`POST /upload`, api/journal-upload/upload.ts) turned into records
 * piece by piece: the export format parsed as it arrives (formats/journal-export.ts), each entry a
 * `kind=log` record of its host (formats/journal-records.ts), corrupt entries counted with their
 * first reasons, and one entry larger than the body limit refused (413). The same code runs in the
 * handler (small uploads, `--decode-workers 0`) and in a decode worker (./decode-worker.ts), where
 * `JournalStreams` keeps one decoder per upload between its pieces (a sticky stream of
 * ./decode-pool.ts), so both paths give the same records and the same answers.
 */
import { type ExportItem, ExportParser } from '../../formats/journal-export.js';
import { ENTRY_RECORD_FIELDS, entryRecord, journalAttributeSets } from '../../formats/journal-records.js';
import type { ValueSets } from '../../model/intern.js';
import type { Attributes, Labels, LogRecord } from '../../model/record.js';
import { HttpError } from '../http/errors.js';

/** Corrupt entries named in an answer (and sent back by a worker per piece). */
export const JOURNAL_MAX_REASONS = 10;

/**
 * What the uploads of one handler (or one worker) share, bounded: a host's labels object (the
 * intake normalises and checks one object once) and a unit's repeated fields (host, unit,
 * identifier, boot) as one attributes object (the store's WAL encodes an object's text once).
 */
export interface JournalSets {
  readonly labelsByHost: Map<string, Labels>;
  readonly attributeSets: ValueSets<Attributes>;
}

export const newJournalSets = (): JournalSets => ({
  labelsByHost: new Map(),
  attributeSets: journalAttributeSets(),
});

/** What a piece of the body gave: its records, and its corrupt entries (count, first reasons). */
export interface JournalPiece {
  readonly records: LogRecord[];
  corrupt: number;
  readonly reasons: string[];
}

export const emptyJournalPiece = (): JournalPiece => ({ records: [], corrupt: 0, reasons: [] });

/** One upload's parser. */
export class JournalDecoder {
  /** Only the fields a record is made of are decoded (a journal's entries carry many more). */
  private readonly parser = new ExportParser({ keep: ENTRY_RECORD_FIELDS });

  constructor(
    private readonly sets: JournalSets,
    private readonly maxBodyBytes: number,
  ) {}

  /**
   * Adds to `out` the entries `chunk` completes. An entry of more than `maxBodyBytes` (complete, or
   * so far) is a 413 naming the limit, whatever the pieces the body came in (the same answer
   * inline, in chunks of the socket's reads, and in a worker, in larger pieces).
   */
  push(chunk: Buffer, observed: bigint, out: JournalPiece): void {
    const items = this.parser.push(chunk);
    if (this.parser.largestEntry > this.maxBodyBytes) {
      throw new HttpError(
        413,
        `journal entry too large: limit is ${this.maxBodyBytes} bytes (--max-body-size)`,
      );
    }
    this.take(items, observed, out);
  }

  /** Adds the last entry (one without its empty line is still an entry) to `out`. */
  end(observed: bigint, out: JournalPiece): void {
    this.take(this.parser.end(), observed, out);
  }

  private take(items: readonly ExportItem[], observed: bigint, out: JournalPiece): void {
    const { labelsByHost, attributeSets } = this.sets;
    for (const item of items) {
      if ('corrupt' in item) {
        corrupt(out, item.corrupt);
        continue;
      }
      const host = item.entry.get('_HOSTNAME') ?? '';
      let labels = labelsByHost.get(host);
      if (!labels) {
        if (labelsByHost.size >= 10_000) labelsByHost.clear();
        labels = { kind: 'log', source: 'journal', ...(host !== '' ? { node: host } : {}) };
        labelsByHost.set(host, labels);
      }
      const rec = entryRecord(item.entry, { labels, observed, attributeSets });
      if (rec) out.records.push(rec);
      else corrupt(out, 'entry without a valid __REALTIME_TIMESTAMP');
    }
  }
}

function corrupt(out: JournalPiece, reason: string): void {
  out.corrupt++;
  if (out.reasons.length < JOURNAL_MAX_REASONS) out.reasons.push(reason);
}

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
  private readonly streams = new Map<number, JournalDecoder>();
  private readonly sets = newJournalSets();

  constructor(private readonly max = JOURNAL_STREAMS_MAX) {}

  /** The records of `body` for the stream of `job` (and the last entry at its end). */
  run(job: JournalStreamJob, body: Buffer): JournalPiece {
    let decoder = this.streams.get(job.stream);
    if (!decoder) {
      // A later piece of a stream not held here: its worker was replaced, its state lost.
      if (!job.first) throw new Error(`journal stream ${job.stream} is not open in this worker`);
      if (this.streams.size >= this.max) throw new Error(`more than ${this.max} journal streams open`);
      decoder = new JournalDecoder(this.sets, job.maxBodyBytes);
      this.streams.set(job.stream, decoder);
    }
    const out = emptyJournalPiece();
    try {
      if (body.length > 0) decoder.push(body, job.now, out);
      if (job.kind === 'journal-end') {
        decoder.end(job.now, out);
        this.streams.delete(job.stream);
      }
    } catch (err) {
      this.streams.delete(job.stream);
      throw err;
    }
    return out;
  }

  discard(stream: number): void {
    this.streams.delete(stream);
  }

  /** Streams open (tests: none is left behind). */
  get size(): number {
    return this.streams.size;
  }
}
