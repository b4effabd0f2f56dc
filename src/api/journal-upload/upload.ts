/**
 * @module `POST /upload`: systemd's journal upload, as `systemd-journal-remote` serves it for
 * `systemd-journal-upload` (its `--url`): a body of `application/vnd.fdo.journal`, the Journal
 * Export Format (binary fields included: formats/journal-export.ts), usually chunked and as long as
 * the journal it uploads. The body is read as it arrives, entries turned into `kind=log` records as
 * the agent's journal source makes them (formats/journal-records.ts; labels `source=journal` and
 * `node` from `_HOSTNAME`), and written through the receivers' intake in batches
 * (api/receivers/intake.ts), reading
 * paused while a batch is written: an upload of any length holds one batch in memory. The answer
 * (200 `OK.`, as journal-remote's) comes once every entry is durable; a broken entry is refused
 * alone (the parser resynchronises at the next entry) and turns the answer into a 400 naming it,
 * so journal-upload reports the failure; entries sent again are de-duplicated by the store.
 *
 * The parsing runs in a decode worker (api/receivers/decode-pool.ts `openStream`, the same code as
 * inline: api/receivers/decode-journal.ts) unless the body is known to be small or the pool has no
 * room: the body goes to one worker in pieces of 256 KiB, at most two there at once, their records
 * taken in order. Why: parsing and making the records was most of the main thread's time for an
 * upload (the export parser and entryRecord about 0.8 s of 2 s for the bench's 200,000 entries, the
 * main thread ~90% busy), and in a worker it runs beside the store path. Measured (bench phase
 * `receivers`, 2 cores shared with other work, one worker, runs interleaved, CPU per thread from
 * /proc): the main thread spent 1.73-1.79 s of CPU for the upload before, 1.33-1.48 s inline with
 * the parser's own gains (formats/journal-export.ts), 0.75-0.82 s with the worker (which spent
 * 0.72-0.78 s); the server in all about 2.4 s, 1.9-2.2 s and 2.0-2.5 s. Lines/s rose from 90-103k to
 * 113-128k in most runs, but on that machine they are bound by CPU in all (the server, its GC
 * threads and the client, systemd-journal-upload, 0.7 s, share two cores, and other work besides):
 * runs under load gave 68-80k either way, and inline with the faster parser reached 103-120k too.
 * Where a core is free for the worker, an upload should be bound by the main thread's part
 * (inferred from the figures above, not measured: the bench machine has no such core).
 *
 * One entry may not exceed the body limit (`--max-body-size`): 413 naming it, however the body
 * is cut. Backpressure is 503 with Retry-After (api/receivers/errors.ts); on a full disk nothing is
 * read. A worker that dies mid-upload fails it with a 503 (nothing later of it is stored; what was
 * stored stays, and is de-duplicated when journal-upload sends it again); a request that fails or
 * is aborted drops its state in the worker.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { entryCountHeaders } from '../../formats/entry-counts.js';
import { groupPushErrors } from '../../formats/loki-push/index.js';
import { SetInterner } from '../../model/intern.js';
import type { Attributes, Labels } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { bodyMediaType } from '../http/body.js';
import { contentEncoding } from '../http/encoded-body.js';
import { HttpError } from '../http/errors.js';
import type { Handler, RequestContext } from '../http/router.js';
import { text } from '../http/router.js';
import {
  type DecodedPiece,
  type DecodePool,
  type DecodeStream,
  unpackPiece,
} from '../receivers/decode-pool.js';
import type { Intake, IntakeItem } from '../receivers/intake.js';
import { JOURNAL_MAX_REASONS, JournalPacker, JournalTables } from '../receivers/journal-packer.js';
import type { ProtocolCounter } from '../receivers/metrics.js';

export const JOURNAL_EXPORT_TYPE = 'application/vnd.fdo.journal';
/** Records written at once: big enough for the store's throughput, small enough for memory. */
const BATCH = 2000;
/**
 * Bytes of body sent to the worker at once: a message costs the main thread about the same
 * whatever its size, and the body arrives in chunks of 16-64 KiB.
 */
export const JOURNAL_PIECE_BYTES = 256 << 10;
/** Pieces in a worker at once: one parsed while the next waits; reading waits beyond. */
const PIECES_IN_FLIGHT = 2;

export interface JournalUploadOptions {
  readonly intake: Intake;
  readonly counter: ProtocolCounter;
  /** The largest one entry may be. */
  readonly maxBodyBytes: number;
  readonly now?: () => bigint;
  /** Where large uploads are parsed (./decode-pool.ts); inline without. */
  readonly decodePool?: DecodePool;
}

function source(req: IncomingMessage): Readable {
  const encoding = contentEncoding(req);
  if (encoding === '') return req;
  if (encoding === 'gzip') return req.pipe(createGunzip());
  if (encoding === 'deflate') return req.pipe(createInflate());
  req.resume();
  throw new HttpError(
    415,
    `unsupported Content-Encoding ${JSON.stringify(encoding)}: send gzip, deflate or identity`,
  );
}

/** A stream in the pool for `req`'s body, unless it is known to be small (or the pool has no room). */
function pooledStream(
  pool: DecodePool | undefined,
  req: IncomingMessage,
  sets: { labels: SetInterner<Labels>; attributes: SetInterner<Attributes> },
): DecodeStream | undefined {
  if (!pool) return undefined;
  const length = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isSafeInteger(length) && length < pool.inlineBelow) return undefined;
  return pool.openStream(sets.labels, sets.attributes);
}

export function journalUploadHandler(o: JournalUploadOptions): Handler {
  const now = o.now ?? nowNs;
  // Across requests (bounded), so that a host's stream keeps one labels object (normalised and
  // checked once by the intake) and a unit's repeated fields one attributes object (the store's
  // WAL encodes its text once per object). Pieces come packed, from a worker or from `tables`
  // here: their label and attribute sets are interned in `sets`, one object each again.
  const tables = new JournalTables();
  const sets = { labels: new SetInterner<Labels>(), attributes: new SetInterner<Attributes>() };
  return async (ctx: RequestContext) => {
    const { req, access } = ctx;
    if (bodyMediaType(req) !== JOURNAL_EXPORT_TYPE) {
      req.resume();
      throw new HttpError(415, `Content-Type: ${JOURNAL_EXPORT_TYPE} is required.`);
    }
    const corrupt: string[] = [];
    const refusedByReason: Record<string, number> = {};
    const limitErrors: string[] = [];
    let stored = 0;
    let duplicates = 0;
    let corruptCount = 0;
    let pending: IntakeItem[] = [];
    /** The pending records' UTF-8 lengths, while every piece of the batch came with them. */
    let pendingBytes: number[] | undefined = [];
    let decided = false;

    const flush = async (): Promise<void> => {
      if (pending.length === 0 && decided) return;
      const batch = pending;
      const bytes = pendingBytes;
      pending = [];
      pendingBytes = [];
      // Lengths that do not cover the batch are ignored by the intake (it measures then).
      const result = await o.intake.write({
        access,
        records: batch,
        counter: o.counter,
        lineBytes: bytes && Uint32Array.from(bytes),
      });
      decided = true;
      stored += result.stored;
      duplicates += result.duplicates;
      for (const [reason, n] of Object.entries(result.refusedByReason)) {
        refusedByReason[reason] = (refusedByReason[reason] ?? 0) + n;
      }
      for (const r of result.refusals) {
        if (r && limitErrors.length < JOURNAL_MAX_REASONS) limitErrors.push(r.message);
      }
    };
    /**
     * The batch being written. The next one is read and parsed meanwhile, and reading waits (the
     * for-await pulls no more) only when it is full too: one write in flight, one batch held.
     * Waiting for every write before parsing on left the server idle during each fsync, a sixth of
     * an upload's time.
     */
    let writing: Promise<void> | undefined;
    /** A piece's records into the batch; a full batch is written once the one before is done. */
    const take = async (piece: DecodedPiece): Promise<void> => {
      corruptCount += piece.corrupt;
      for (const r of piece.reasons) if (corrupt.length < JOURNAL_MAX_REASONS) corrupt.push(r);
      for (const r of piece.records) pending.push(r);
      if (piece.lineBytes && pendingBytes) for (const n of piece.lineBytes) pendingBytes.push(n);
      else if (piece.records.length > 0) pendingBytes = undefined;
      if (pending.length >= BATCH) {
        if (writing) await writing;
        writing = flush();
        // Awaited before the next write or at the end; a failure meanwhile is not unhandled.
        writing.catch(() => {});
      }
    };

    const body = source(req);
    const stream = pooledStream(o.decodePool, req, sets);
    try {
      if (stream) await parsePooled(body as AsyncIterable<Buffer>, stream, take, o.maxBodyBytes, now);
      else {
        const packer = new JournalPacker(tables);
        const inline = (chunk: Buffer, end: boolean): DecodedPiece =>
          unpackPiece(packer.push(chunk, now(), end, o.maxBodyBytes), sets.labels, sets.attributes);
        for await (const chunk of body as AsyncIterable<Buffer>) await take(inline(chunk, false));
        await take(inline(Buffer.alloc(0), true));
      }
      if (writing) await writing;
      await flush();
    } catch (err) {
      // The worker drops what it held of this upload (a failed write, a 413, a client gone).
      stream?.discard();
      req.resume();
      if (body !== req) body.resume();
      throw err;
    }
    if (corruptCount > 0) refusedByReason.corrupt = corruptCount;
    const headers = entryCountHeaders({ stored, duplicates, refused: refusedByReason });
    if (corruptCount > 0) {
      o.counter.count('refused', corruptCount, 0);
      const more = corruptCount > corrupt.length ? ` (and ${corruptCount - corrupt.length} more)` : '';
      const reply = text(
        400,
        `${corruptCount} corrupt entries refused: ${corrupt.join('; ')}${more}; the others were stored\n`,
      );
      return { ...reply, headers: { ...reply.headers, ...headers } };
    }
    const note = limitErrors.length > 0 ? ` Refused by the limits: ${groupPushErrors(limitErrors)}` : '';
    const reply = text(200, `OK.${note}\n`);
    return { ...reply, headers: { ...reply.headers, ...headers } };
  };
}

/**
 * The body through a worker's stream: chunks gathered into pieces of JOURNAL_PIECE_BYTES, at most
 * PIECES_IN_FLIGHT in the worker (reading waits for the oldest answer beyond: bounded memory, and
 * the client is slowed as by a write), answers taken in order.
 */
async function parsePooled(
  body: AsyncIterable<Buffer>,
  stream: DecodeStream,
  take: (piece: DecodedPiece) => Promise<void>,
  maxBodyBytes: number,
  now: () => bigint,
): Promise<void> {
  const inWorker: Promise<DecodedPiece>[] = [];
  let gathered: Buffer[] = [];
  let bytes = 0;
  const send = async (last: boolean): Promise<void> => {
    if (inWorker.length >= PIECES_IN_FLIGHT) await take(await inWorker.shift()!);
    // A copy the worker may take (transferred): the chunks may share memory with others.
    const piece = Buffer.concat(gathered, bytes);
    gathered = [];
    bytes = 0;
    const answer = last ? stream.end(piece, now(), maxBodyBytes) : stream.chunk(piece, now(), maxBodyBytes);
    // Awaited in turn; one that fails while an older one is awaited is not unhandled.
    answer.catch(() => {});
    inWorker.push(answer);
  };
  for await (const chunk of body) {
    gathered.push(chunk);
    bytes += chunk.length;
    if (bytes >= JOURNAL_PIECE_BYTES) await send(false);
  }
  await send(true);
  while (inWorker.length > 0) await take(await inWorker.shift()!);
}
