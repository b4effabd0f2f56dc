/**
 * @module The journal export format (`journalctl -o export`, systemd's "Journal Export Format"),
 * read incrementally from a byte stream. An entry is a run of fields ended by an empty line; a
 * field is `NAME=value\n` when the value is printable text, else binary-safe
 * `NAME\n<size as little-endian 64-bit><bytes>\n` (multi-line messages, non-UTF-8 bytes).
 * A malformed field makes its whole entry corrupt: the parser reports it and resynchronises at the
 * next empty line.
 */

/** One entry: field name → value (binary values decoded as UTF-8, invalid bytes replaced). */
export type JournalEntry = Map<string, string>;

export type ExportItem = { readonly entry: JournalEntry } | { readonly corrupt: string };

const FIELD_NAME = /^[A-Za-z0-9_]+$/;
/** journald refuses fields larger than this; a bigger size is a broken frame. */
const MAX_FIELD = 64 * 1024 * 1024;
const NL = 0x0a;

export class ExportParser {
  private buf: Buffer = Buffer.alloc(0);
  private fields: JournalEntry = new Map();
  /** Set when the current entry is broken: skip to its end, then report it. */
  private broken: string | undefined;

  /** Feeds bytes; returns the entries (and corrupt ones) completed by them, in order. */
  push(chunk: Buffer): ExportItem[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: ExportItem[] = [];
    let pos = 0;
    const buf = this.buf;
    while (pos < buf.length) {
      const nl = buf.indexOf(NL, pos);
      if (nl < 0) break;
      if (nl === pos) {
        // Empty line: the entry ends.
        pos = nl + 1;
        this.finish(out);
        continue;
      }
      if (this.broken !== undefined) {
        pos = nl + 1;
        continue;
      }
      const eq = buf.indexOf(0x3d /* = */, pos);
      if (eq >= 0 && eq < nl) {
        const name = buf.toString('latin1', pos, eq);
        if (!FIELD_NAME.test(name)) this.broken = `bad field name "${name.slice(0, 40)}"`;
        else this.fields.set(name, buf.toString('utf8', eq + 1, nl));
        pos = nl + 1;
        continue;
      }
      // Binary field: NAME\n, 8 bytes of size, the bytes, \n.
      const name = buf.toString('latin1', pos, nl);
      if (!FIELD_NAME.test(name)) {
        this.broken = `bad field name "${name.slice(0, 40)}"`;
        pos = nl + 1;
        continue;
      }
      if (buf.length < nl + 9) break;
      const size = buf.readBigUInt64LE(nl + 1);
      if (size > BigInt(MAX_FIELD)) {
        this.broken = `field ${name} claims ${size} bytes`;
        pos = nl + 1;
        continue;
      }
      const start = nl + 9;
      const end = start + Number(size);
      if (buf.length < end + 1) break;
      if (buf[end] !== NL) {
        this.broken = `field ${name}: ${size} bytes not followed by a newline`;
        pos = nl + 1;
        continue;
      }
      this.fields.set(name, buf.toString('utf8', start, end));
      pos = end + 1;
    }
    this.buf = pos >= buf.length ? Buffer.alloc(0) : buf.subarray(pos);
    return out;
  }

  /** End of stream: a last entry without its empty line is still returned; a partial field is corrupt. */
  end(): ExportItem[] {
    const out: ExportItem[] = [];
    if (this.buf.length > 0) {
      this.broken ??= 'stream ended inside a field';
      this.buf = Buffer.alloc(0);
    }
    this.finish(out);
    return out;
  }

  private finish(out: ExportItem[]): void {
    if (this.broken !== undefined) out.push({ corrupt: this.broken });
    else if (this.fields.size > 0) out.push({ entry: this.fields });
    this.fields = new Map();
    this.broken = undefined;
  }
}
