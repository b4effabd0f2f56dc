/**
 * @module Where each top-level msgpack value of a byte stream ends, found incrementally: the
 * Fluentd forward protocol is a bare stream of msgpack arrays on a TCP connection, with no length
 * prefix. The framer walks only the headers (a str, bin or ext payload is skipped in one step) and
 * keeps its place between chunks, so a large message arriving in many chunks is walked once, not
 * once per chunk (msgpackr's `unpackMultiple` restarts from the message's first byte each time it
 * meets the end of the data). Values are decoded only once complete (formats/forward/decode.ts).
 *
 * A value longer than `maxMessageBytes` is refused (FormatError `too-large`) as soon as its size is
 * known to exceed it, before it is buffered whole; a byte no msgpack value starts with (0xc1) is
 * `malformed`. After an error the framer is spent: the connection is dropped.
 */
import { FormatError, malformed } from '../errors.js';

/** What the walk still expects: a count of values left in each open array or map. */
type Stack = number[];

export class MsgpackFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** The grown buffer `buf` is the tail of, when `inStore` (see append). */
  private store: Buffer | undefined;
  private inStore = false;
  /** Where the walk of the current value stands, relative to `buf`. */
  private pos = 0;
  private readonly stack: Stack = [];
  private started = false;
  /** Bytes the current value is known to need (a payload's end), once a header said so; else 0. */
  private expect = 0;
  /** Bytes copied into held buffers so far (tests: each chunk of a known payload once). */
  copied = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** Bytes held for a value not yet complete. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Feeds bytes; returns the complete values' bytes (each a view of its own). */
  push(chunk: Buffer): Buffer[] {
    if (this.buf.length === 0) {
      this.buf = chunk;
      this.inStore = false;
    } else this.append(chunk);
    const out: Buffer[] = [];
    for (;;) {
      const end = this.walk();
      if (end < 0) break;
      out.push(this.buf.subarray(0, end));
      this.buf = this.buf.subarray(end);
      this.pos = 0;
      this.started = false;
      this.expect = 0;
    }
    if (this.buf.length > this.maxMessageBytes) this.tooLarge(this.buf.length);
    return out;
  }

  /**
   * `chunk` after the held bytes. They are kept in a buffer grown by doubling, so a message that
   * arrives in many chunks is copied a few times, not once per chunk (a concatenation per chunk
   * was a twentieth of the forward listener's time, for PackedForward messages of ~200 KB). The
   * views already handed out stay valid: nothing written is overwritten.
   */
  private append(chunk: Buffer): void {
    const held = this.buf.length;
    const store = this.store;
    if (this.inStore && store) {
      const start = this.buf.byteOffset - store.byteOffset;
      const end = start + held;
      if (end + chunk.length <= store.length) {
        this.copied += chunk.copy(store, end);
        this.buf = store.subarray(start, end + chunk.length);
        return;
      }
    }
    const need = held + chunk.length;
    // A payload of known length (PackedForward's entries: one bin of some 200 KB) gets its room at
    // once, and a read's worth for what follows it: each chunk is copied once, not again at every
    // doubling (a twentieth of the forward listener's time).
    const size =
      this.expect > need
        ? this.expect + 65536
        : Math.max(need, Math.min(need * 2, this.maxMessageBytes + 65536));
    const next = Buffer.allocUnsafe(size);
    this.copied += this.buf.copy(next, 0);
    this.copied += chunk.copy(next, held);
    this.store = next;
    this.inStore = true;
    this.buf = next.subarray(0, need);
  }

  private tooLarge(n: number): never {
    throw new FormatError(
      'too-large',
      `forward message of at least ${n} bytes, over the limit of ${this.maxMessageBytes} bytes`,
    );
  }

  /** The end of the first value of `buf` when it is complete, else -1 (the walk's place kept). */
  private walk(): number {
    const b = this.buf;
    if (!this.started) {
      if (b.length === 0) return -1;
      this.started = true;
      this.stack.length = 0;
      this.stack.push(1);
    }
    while (this.stack.length > 0) {
      if (this.stack[this.stack.length - 1] === 0) {
        this.stack.pop();
        continue;
      }
      const p = this.pos;
      if (p >= b.length) return -1;
      const c = b[p]!;
      let head = 1;
      let payload = 0;
      let children = 0;
      if (c <= 0x7f || c >= 0xe0 || (c >= 0xc0 && c <= 0xc3 && c !== 0xc1)) {
        // fixint, negative fixint, nil, false, true
      } else if (c >= 0x80 && c <= 0x8f) children = (c & 0x0f) * 2;
      else if (c >= 0x90 && c <= 0x9f) children = c & 0x0f;
      else if (c >= 0xa0 && c <= 0xbf) payload = c & 0x1f;
      else {
        const need = (n: number): boolean => p + 1 + n <= b.length;
        switch (c) {
          case 0xc4:
          case 0xd9:
            if (!need(1)) return -1;
            head = 2;
            payload = b[p + 1]!;
            break;
          case 0xc5:
          case 0xda:
            if (!need(2)) return -1;
            head = 3;
            payload = b.readUInt16BE(p + 1);
            break;
          case 0xc6:
          case 0xdb:
            if (!need(4)) return -1;
            head = 5;
            payload = b.readUInt32BE(p + 1);
            break;
          case 0xc7: // ext 8
            if (!need(1)) return -1;
            head = 3;
            payload = b[p + 1]!;
            break;
          case 0xc8:
            if (!need(2)) return -1;
            head = 4;
            payload = b.readUInt16BE(p + 1);
            break;
          case 0xc9:
            if (!need(4)) return -1;
            head = 6;
            payload = b.readUInt32BE(p + 1);
            break;
          case 0xca:
          case 0xce:
          case 0xd2:
            payload = 4;
            break;
          case 0xcb:
          case 0xcf:
          case 0xd3:
            payload = 8;
            break;
          case 0xcc:
          case 0xd0:
            payload = 1;
            break;
          case 0xcd:
          case 0xd1:
            payload = 2;
            break;
          case 0xd4:
            payload = 2; // fixext 1: type + 1
            break;
          case 0xd5:
            payload = 3;
            break;
          case 0xd6:
            payload = 5;
            break;
          case 0xd7:
            payload = 9;
            break;
          case 0xd8:
            payload = 17;
            break;
          case 0xdc:
            if (!need(2)) return -1;
            head = 3;
            children = b.readUInt16BE(p + 1);
            break;
          case 0xdd:
            if (!need(4)) return -1;
            head = 5;
            children = b.readUInt32BE(p + 1);
            break;
          case 0xde:
            if (!need(2)) return -1;
            head = 3;
            children = b.readUInt16BE(p + 1) * 2;
            break;
          case 0xdf:
            if (!need(4)) return -1;
            head = 5;
            children = b.readUInt32BE(p + 1) * 2;
            break;
          default:
            throw malformed(`invalid msgpack: byte 0x${c.toString(16)} at offset ${p} begins no value`);
        }
      }
      const next = p + head + payload;
      // Each value takes at least one byte: a count past the limit is refused before it is read.
      if (next > this.maxMessageBytes || p + head + children > this.maxMessageBytes) {
        this.tooLarge(Math.max(next, p + head + children));
      }
      if (next > b.length) {
        this.expect = next;
        return -1;
      }
      this.pos = next;
      const top = this.stack.length - 1;
      this.stack[top] = this.stack[top]! - 1;
      if (children > 0) this.stack.push(children);
    }
    this.started = false;
    return this.pos;
  }
}
