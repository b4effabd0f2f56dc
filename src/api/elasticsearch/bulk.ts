/**
 * @module `POST /_bulk`, `POST /<index>/_bulk` (and `PUT`), and one document at
 * `POST /<index>/_doc`: Elasticsearch's write API as log shippers use it (Fluent Bit's `es` output,
 * Vector's `elasticsearch` sink, rsyslog's omelasticsearch, Filebeat, the official clients' bulk
 * helper). Documents become records (formats/es-bulk/records.ts) and go through the journal as a
 * receivers' intake (api/receivers/intake.ts); the answer comes once they are durable.
 *
 * Answers as Elasticsearch's (docs: "Bulk API", response body): 200 with `took`, `errors` and one
 * result per item in request order, `201 created` for a stored item, and for a refused one its
 * status and `error` {type, reason} (a document that is not a JSON object, `update`/`delete`, a
 * record past the push limits: too old, line too long...), with `errors: true`. The shippers retry
 * the items whose status is 429 or 5xx and drop the others, which is what a refused record deserves.
 * A malformed action line refuses the whole request (400, nothing stored), as Elasticsearch does.
 */
import { randomBytes } from 'node:crypto';
import type { BulkItem } from '../../formats/es-bulk/bulk.js';
import { bulkBodyRecords, LabelSets } from '../../formats/es-bulk/records.js';
import { SetInterner } from '../../model/intern.js';
import type { Labels } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { contentEncoding, readEncodedBody } from '../http/encoded-body.js';
import type { Handler, Reply } from '../http/router.js';
import type { DecodePool } from '../receivers/decode-pool.js';
import type { Intake, IntakeItem } from '../receivers/intake.js';
import type { ProtocolCounter } from '../receivers/metrics.js';
import { ES_HEADERS } from './errors.js';

export interface BulkOptions {
  readonly intake: Intake;
  readonly counter: ProtocolCounter;
  readonly maxBodyBytes: number;
  readonly maxRecords: number;
  readonly now?: () => bigint;
  /** Where large bulk bodies decode (absent or size 0: inline). */
  readonly decodePool?: DecodePool;
}

/**
 * An id as Elasticsearch makes one: 20 characters of URL-safe base64, from a random prefix per
 * process and a counter (Elasticsearch's are time-based too); a random draw per item was 6% of a
 * bulk request's time. The 9 bytes of prefix are the first 12 characters, the counter's 48 bits the
 * last 8, written straight into the answer's bytes (`writeId`).
 */
const ID_PREFIX = Buffer.from(randomBytes(9).toString('base64url'), 'latin1');
const B64URL = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 'latin1');
let idCounter = 0;
const ID_LENGTH = 20;

/** The next id, written at `at` in `out` (ID_LENGTH bytes). */
function writeId(out: Buffer, at: number): void {
  ID_PREFIX.copy(out, at);
  const c = ++idCounter % 2 ** 48;
  const hi = Math.floor(c / 2 ** 24);
  const lo = c % 2 ** 24;
  for (let k = 0; k < 4; k++) {
    out[at + 12 + k] = B64URL[(hi >>> (18 - 6 * k)) & 63]!;
    out[at + 16 + k] = B64URL[(lo >>> (18 - 6 * k)) & 63]!;
  }
}

function newId(): string {
  const b = Buffer.allocUnsafe(ID_LENGTH);
  writeId(b, 0);
  return b.toString('latin1');
}

interface Decoded {
  readonly items: readonly BulkItem[];
  readonly intake: IntakeItem[];
  /** Item index → intake index (-1: refused by the decoder, not handed to intake). */
  readonly slot: number[];
  /** The intake items' bodies' UTF-8 lengths, when a worker measured them. */
  readonly lineBytes?: Uint32Array | undefined;
}

/**
 * Label sets interned across requests (bounded): a stream keeps one labels object, so the intake
 * normalises and checks it once, not once per request.
 */
const labelSets = new LabelSets();
/** The same for label sets decoded in a worker (./decode-pool.ts): one object per stream here too. */
const pooledLabelSets = new SetInterner<Labels>();

function toIntake(body: Buffer, index: string, maxItems: number, now: bigint): Decoded {
  const { items, records, slot } = bulkBodyRecords(body, index, maxItems, now, labelSets);
  return { items, intake: records, slot };
}

async function readItems(o: BulkOptions, ctx: Parameters<Handler>[0], single: boolean): Promise<Decoded> {
  let wire = 0;
  const t = (o.now ?? nowNs)();
  try {
    // Bounded line by line as it parses (formats/es-bulk/bulk.ts), not by a scan of the whole
    // body; a compressed body is still scanned as it inflates, which refuses a bomb after its
    // first kilobytes rather than once it is inflated to the body limit.
    const body = await readEncodedBody(ctx.req, {
      maxBodyBytes: o.maxBodyBytes,
      json: contentEncoding(ctx.req) !== '',
      onWireBytes: (n) => {
        wire = n;
      },
    });
    const index = ctx.pathParams?.index ?? '';
    if (single) {
      // One document: the whole body, as `{"index":{}}` + it would be.
      const text = body.toString('utf8').replace(/\n/g, ' ');
      return toIntake(Buffer.from(`{"index":{}}\n${text}\n`), index, 1, t);
    }
    const job = { kind: 'es-bulk', maxRecords: o.maxRecords, now: t, index } as const;
    const pooled = o.decodePool?.decode(job, body, pooledLabelSets);
    if (pooled) {
      const { records, bulk, lineBytes } = await pooled;
      return { items: bulk!.items, intake: records, slot: bulk!.slot, lineBytes };
    }
    return toIntake(body, index, o.maxRecords, t);
  } catch (err) {
    o.counter.count('refused', 0, wire);
    throw err;
  }
}

interface ItemResult {
  readonly action: string;
  readonly status: number;
  /** The item's result object as JSON text (written by hand: JSON.stringify of 2,000 objects per request cost more). */
  readonly json: string;
}

function results(decoded: Decoded, refusals: readonly ({ reason: string; message: string } | undefined)[]) {
  const out: ItemResult[] = [];
  let errors = false;
  let seq = 0;
  const items = decoded.items;
  let lastIndex = '';
  let lastIndexJson = '""';
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const s = decoded.slot[i]!;
    const id = item.id === undefined ? newId() : item.id;
    if (item.index !== lastIndex) {
      lastIndex = item.index;
      lastIndexJson = JSON.stringify(item.index);
    }
    const head = `"_index":${lastIndexJson},"_id":${item.id === undefined ? `"${id}"` : JSON.stringify(id)}`;
    const refusal = s >= 0 ? refusals[s] : undefined;
    const error =
      item.error ??
      (refusal ? { type: 'illegal_argument_exception', reason: refusal.message, status: 400 } : undefined);
    if (error) {
      errors = true;
      out.push({
        action: item.action,
        status: error.status,
        json: `{${head},"status":${error.status},"error":${JSON.stringify({ type: error.type, reason: error.reason })}}`,
      });
      continue;
    }
    out.push({
      action: item.action,
      status: 201,
      json: `{${head},"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":${seq++},"_primary_term":1,"status":201}`,
    });
  }
  return { out, errors };
}

/**
 * The answer's bytes, written straight into one buffer: the fixed parts of a created item copied,
 * the id and sequence number written in place. Built as strings (an object and a template per item,
 * then one join and its UTF-8 encoding) it cost a fifth of the main thread's time for a bulk
 * request of 2,000 items. Items with an id of their own or an error are rarer and written as text.
 */
class AnswerWriter {
  private buf: Buffer;
  private at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
  bytes(b: Buffer): void {
    this.room(b.length);
    this.at += b.copy(this.buf, this.at);
  }
  text(s: string): void {
    this.room(s.length * 3);
    this.at += this.buf.write(s, this.at, 'utf8');
  }
  /** One ASCII byte. */
  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }
  /** A non-negative integer's digits (a native write per item's number was a third of the answer's time). */
  uint(n: number): void {
    if (n >= 1e15) {
      this.text(String(n));
      return;
    }
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    this.room(digits);
    for (let k = this.at + digits - 1; k >= this.at; k--) {
      this.buf[k] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.at += digits;
  }
  id(): void {
    this.room(ID_LENGTH);
    writeId(this.buf, this.at);
    this.at += ID_LENGTH;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/** After a created item's id, up to its `_seq_no`'s digits. */
const CREATED_AFTER_ID =
  ',"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":';
const CREATED_TAIL = Buffer.from(`"${CREATED_AFTER_ID}`, 'latin1');
const CREATED_END = Buffer.from(',"_primary_term":1,"status":201}}', 'latin1');

function bulkAnswer(
  decoded: Decoded,
  refusals: readonly ({ reason: string; message: string } | undefined)[],
  took: number,
): Buffer {
  const items = decoded.items;
  const w = new AnswerWriter(items.length * 220 + 64);
  let seq = 0;
  let errors = false;
  for (let i = 0; i < items.length && !errors; i++) {
    const s = decoded.slot[i]!;
    errors = items[i]!.error !== undefined || (s >= 0 && refusals[s] !== undefined);
  }
  // `{"<action>":{"_index":<index>,"_id":"` for the last (action, index) seen.
  let headAction = '';
  let headIndex = '';
  let head = Buffer.alloc(0);
  w.text(`{"took":${took},"errors":${errors},"items":[`);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (i > 0) w.byte(0x2c);
    const s = decoded.slot[i]!;
    const refusal = s >= 0 ? refusals[s] : undefined;
    const error =
      item.error ??
      (refusal ? { type: 'illegal_argument_exception', reason: refusal.message, status: 400 } : undefined);
    if (error) {
      const indexJson = JSON.stringify(item.index);
      const id = item.id === undefined ? newId() : item.id;
      w.text(
        `{"${item.action}":{"_index":${indexJson},"_id":${JSON.stringify(id)},"status":${error.status},"error":${JSON.stringify({ type: error.type, reason: error.reason })}}}`,
      );
      continue;
    }
    if (item.id !== undefined) {
      w.text(`{"${item.action}":{"_index":${JSON.stringify(item.index)},"_id":${JSON.stringify(item.id)}`);
      w.text(CREATED_AFTER_ID);
    } else {
      if (item.action !== headAction || item.index !== headIndex) {
        headAction = item.action;
        headIndex = item.index;
        head = Buffer.from(`{"${item.action}":{"_index":${JSON.stringify(item.index)},"_id":"`, 'utf8');
      }
      w.bytes(head);
      w.id();
      w.bytes(CREATED_TAIL);
    }
    w.uint(seq++);
    w.bytes(CREATED_END);
  }
  w.text(']}');
  return w.done();
}

export function bulkHandler(o: BulkOptions): Handler {
  return async (ctx) => {
    const started = Date.now();
    const decoded = await readItems(o, ctx, false);
    o.counter.count('refused', decoded.slot.filter((s) => s < 0).length, 0);
    const result = await o.intake.write({
      access: ctx.access,
      records: decoded.intake,
      counter: o.counter,
      lineBytes: decoded.lineBytes,
    });
    const reply: Reply = {
      status: 200,
      headers: { ...ES_HEADERS },
      body: bulkAnswer(decoded, result.refusals, Date.now() - started),
    };
    return reply;
  };
}

/** `POST /<index>/_doc`: one document, answered as Elasticsearch's index API answers. */
export function docHandler(o: BulkOptions): Handler {
  return async (ctx) => {
    const decoded = await readItems(o, ctx, true);
    o.counter.count('refused', decoded.slot.filter((s) => s < 0).length, 0);
    const result = await o.intake.write({
      access: ctx.access,
      records: decoded.intake,
      counter: o.counter,
      lineBytes: decoded.lineBytes,
    });
    const [r] = results(decoded, result.refusals).out;
    if (!r) throw new Error('a document request made no item');
    const status = r.status;
    const { status: _, ...rest } = JSON.parse(r.json) as Record<string, unknown>;
    const body = status === 201 ? rest : { error: rest.error, status };
    return { status, headers: { ...ES_HEADERS }, body: JSON.stringify(body) };
  };
}
