/**
 * @module Elasticsearch's bulk body (`POST /_bulk`, `/<index>/_bulk`): NDJSON, an action line
 * (`{"index":{...}}`, `{"create":{...}}`, `update`, `delete`) followed, except for `delete`, by its
 * source line; blank lines are skipped. As Elasticsearch does (server/.../action/bulk/BulkRequestParser):
 * an action line that is not an object with one known action is a malformed request, refused whole
 * (FormatError, answered 400 with Elasticsearch's error types); a source line that is not a JSON
 * object fails only its item (`document_parsing_exception`); `update` and `delete` are items
 * refused alone, since a journal does not change what it stored.
 *
 * Bounds, line by line rather than over the whole body (a scan of every byte before parsing was an
 * eighth of a bulk body's decoding): a line longer than LINE_SCAN_ABOVE is scanned for its JSON
 * bounds (util/json-bounds.ts) before it is parsed, so what one line may make `JSON.parse` build is
 * bounded by that length; an action line past them refuses the request, a source line its item.
 * Each document goes to a `sink` as soon as it is parsed and is not kept, so a body's documents
 * never live all at once (the sink bounds what it keeps: formats/es-bulk/records.ts).
 */
import { checkJsonBounds, JsonBoundsError } from '../../util/json-bounds.js';
import { FormatError, malformed } from '../errors.js';

/** Lines longer than this (UTF-16 code units) are scanned for their JSON bounds before parsing. */
export const LINE_SCAN_ABOVE = 64 << 10;

export type BulkAction = 'index' | 'create' | 'update' | 'delete';

/** One item of a bulk request, in order (its document went to the sink). */
export interface BulkItem {
  readonly action: BulkAction;
  /** The item's index: its action's `_index`, else the path's; '' when neither names one. */
  readonly index: string;
  /** The action's `_id`, when given. */
  readonly id?: string;
  /** Why the item cannot be taken: Elasticsearch's error type and reason, and the item's status. */
  readonly error?: { readonly type: string; readonly reason: string; readonly status: number };
}

const ACTIONS: readonly string[] = ['index', 'create', 'update', 'delete'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The body's lines, blank ones skipped, with their 1-based numbers (no generator: the hot path).
 * Each line is decoded on its own, so that a few lines of non-ASCII text leave the others one byte
 * per character (a body decoded whole is two bytes per character for all of it once one line holds
 * an accent, and its lines slower to parse), and a line equal to the last action line is compared
 * as bytes, not decoded.
 */
class Lines {
  private start = 0;
  lineNo = 0;
  /** The current line's bytes, [from, to). */
  from = 0;
  to = 0;
  constructor(private readonly body: Buffer) {}

  /** Moves to the next non-blank line; false at the end. */
  next(): boolean {
    const b = this.body;
    const n = b.length;
    while (this.start < n) {
      const nl = b.indexOf(0x0a, this.start);
      const end = nl < 0 ? n : nl;
      this.lineNo++;
      const from = this.start;
      this.start = end + 1;
      if (end > from && (b[from] === 0x7b || b.toString('utf8', from, end).trim() !== '')) {
        this.from = from;
        this.to = end;
        return true;
      }
    }
    return false;
  }

  /** The current line's text. */
  text(): string {
    return this.body.toString('utf8', this.from, this.to);
  }

  /** Whether the current line holds the same bytes as the body's [from, to). */
  equals(from: number, to: number): boolean {
    if (to - from !== this.to - this.from) return false;
    const b = this.body;
    for (let i = from, j = this.from; i < to; i++, j++) if (b[i] !== b[j]) return false;
    return true;
  }
}

/**
 * Takes an item's document as soon as it is parsed: undefined when taken, else why the item is
 * refused (the document is then dropped).
 */
export type DocumentSink = (doc: Obj, index: string) => BulkItem['error'];

/**
 * Parses a bulk body; `defaultIndex` is the path's index. Throws FormatError for a bad action line.
 * Each `index`/`create` document that parses as an object goes to `sink`.
 */
export function parseBulk(
  body: Buffer,
  defaultIndex: string,
  maxItems: number,
  sink: DocumentSink,
): BulkItem[] {
  const items: BulkItem[] = [];
  const it = new Lines(body);
  let lastFrom = 0;
  let lastTo = -1;
  let lastParsed: [BulkAction, Obj] | undefined;
  while (it.next()) {
    const lineNo = it.lineNo;
    // Shippers repeat one action line for every document (`{"create":{"_index":"logs"}}`): the
    // same bytes are read once.
    let name: BulkAction;
    let meta: Obj;
    if (lastParsed && it.equals(lastFrom, lastTo)) [name, meta] = lastParsed;
    else {
      [name, meta] = parseAction(it.text(), lineNo);
      lastFrom = it.from;
      lastTo = it.to;
      lastParsed = [name, meta];
    }
    if (items.length >= maxItems) throw malformed(`too many items in one bulk request: limit is ${maxItems}`);
    const index = typeof meta._index === 'string' ? meta._index : defaultIndex;
    const id = typeof meta._id === 'string' || typeof meta._id === 'number' ? String(meta._id) : undefined;
    if (name === 'delete') {
      items.push(refusedItem(name, index, id, refusedAction('delete')));
      continue;
    }
    if (!it.next())
      throw malformed(`Validation Failed: 1: no requests added; action line [${lineNo}] has no source line`);
    const source = it.text();
    if (name === 'update') {
      items.push(refusedItem(name, index, id, refusedAction('update')));
      continue;
    }
    if (index === '') {
      items.push(
        refusedItem(name, index, id, {
          type: 'action_request_validation_exception',
          reason: 'Validation Failed: 1: index is missing;',
          status: 400,
        }),
      );
      continue;
    }
    let doc: unknown;
    try {
      if (source.length > LINE_SCAN_ABOVE) checkJsonBounds(source);
      doc = JSON.parse(source);
    } catch (err) {
      items.push(
        refusedItem(name, index, id, {
          type: 'document_parsing_exception',
          reason: `failed to parse: ${(err as Error).message}`,
          status: 400,
        }),
      );
      continue;
    }
    if (!isObj(doc)) {
      items.push(
        refusedItem(name, index, id, {
          type: 'document_parsing_exception',
          reason: `failed to parse: the document is a ${typeName(doc)}, not an object`,
          status: 400,
        }),
      );
      continue;
    }
    const error = sink(doc, index);
    if (error) items.push(refusedItem(name, index, id, error));
    // Literals: a spread clone plus a property per item costs V8 a slow path.
    else items.push(id === undefined ? { action: name, index } : { action: name, index, id });
  }
  return items;
}

/** An item refused on its own (literals: built only on this path, not for every item). */
function refusedItem(
  action: BulkAction,
  index: string,
  id: string | undefined,
  error: NonNullable<BulkItem['error']>,
): BulkItem {
  return id === undefined ? { action, index, error } : { action, index, id, error };
}

/** An action line: its action and metadata; FormatError when it is not one. */
function parseAction(line: string, lineNo: number): [BulkAction, Obj] {
  let action: unknown;
  try {
    if (line.length > LINE_SCAN_ABOVE) checkJsonBounds(line);
    action = JSON.parse(line);
  } catch (err) {
    if (err instanceof JsonBoundsError) {
      throw new FormatError(err.code === 'too-deep' ? 'malformed' : 'too-large', err.message);
    }
    throw malformed(`Malformed action/metadata line [${lineNo}]: ${(err as Error).message}`);
  }
  if (!isObj(action)) {
    throw malformed(
      `Malformed action/metadata line [${lineNo}], expected START_OBJECT but found [${typeName(action)}]`,
    );
  }
  const keys = Object.keys(action);
  if (keys.length !== 1 || !ACTIONS.includes(keys[0]!)) {
    throw malformed(
      `Malformed action/metadata line [${lineNo}], expected one of [create, delete, index, update] but found [${keys.join(', ')}]`,
    );
  }
  const name = keys[0] as BulkAction;
  const meta = action[name];
  if (!isObj(meta)) {
    throw malformed(
      `Malformed action/metadata line [${lineNo}], expected START_OBJECT but found [${typeName(meta)}]`,
    );
  }
  return [name, meta];
}

function refusedAction(action: string): NonNullable<BulkItem['error']> {
  return {
    type: 'illegal_argument_exception',
    reason: `${action} is not supported: kjournal keeps what it was sent; use index or create`,
    status: 400,
  };
}

function typeName(v: unknown): string {
  if (v === null) return 'VALUE_NULL';
  if (Array.isArray(v)) return 'START_ARRAY';
  if (typeof v === 'string') return 'VALUE_STRING';
  if (typeof v === 'number') return 'VALUE_NUMBER';
  if (typeof v === 'boolean') return 'VALUE_BOOLEAN';
  return 'START_OBJECT';
}
