/**
 * @module Reading a file as lines: gzip by its magic bytes (the kubelet's and lumberjack's `.gz`, or
 * any other), split on `\n` only (a bare `\r` is content in a container log, a progress bar's
 * redraw), decoded as UTF-8 line by line. Lines come in arrays per chunk, so the per-line cost stays a
 * loop step, not an await. A line longer than the limit is dropped (as `null`) rather than held.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

export const MAX_LINE_BYTES = 64 << 20;

export async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Yields the file's lines in batches; `null` stands for a line over `maxLineBytes`. `onBytes` is told
 * of every chunk read from disk (compressed bytes for gzip, what a progress bar over file sizes needs).
 */
export async function* readLines(
  path: string,
  onBytes: (n: number) => void,
  maxLineBytes = MAX_LINE_BYTES,
): AsyncGenerator<(string | null)[]> {
  // Checked first: a file that cannot be opened fails here, before a stream exists to leak an error.
  const gz = await isGzip(path);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let source: AsyncIterable<Buffer>;
  let gunzip: ReturnType<typeof createGunzip> | undefined;
  if (gz) {
    gunzip = createGunzip();
    file.on('data', (c: string | Buffer) => onBytes(c.length));
    file.on('error', (err) => gunzip?.destroy(err));
    file.pipe(gunzip);
    source = gunzip;
  } else {
    source = (async function* () {
      for await (const c of file as AsyncIterable<Buffer>) {
        onBytes(c.length);
        yield c;
      }
    })();
  }
  let carry: Buffer[] = [];
  let carryLen = 0;
  let dropping = false;
  let first = true;
  const decode = (buf: Buffer, start: number, end: number): string => {
    let s = buf.toString('utf8', start, end);
    if (first) {
      first = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1); // BOM
    }
    return s;
  };
  try {
    for await (const chunk of source) {
      const lines: (string | null)[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
        if (dropping) {
          lines.push(null);
          dropping = false;
        } else if (carryLen > 0) {
          carry.push(chunk.subarray(start, nl));
          const whole = Buffer.concat(carry);
          lines.push(whole.length > maxLineBytes ? null : decode(whole, 0, whole.length));
          carry = [];
          carryLen = 0;
        } else {
          lines.push(nl - start > maxLineBytes ? null : decode(chunk, start, nl));
        }
        start = nl + 1;
      }
      if (start < chunk.length && !dropping) {
        carry.push(chunk.subarray(start));
        carryLen += chunk.length - start;
        if (carryLen > maxLineBytes) {
          dropping = true;
          carry = [];
          carryLen = 0;
        }
      }
      if (lines.length > 0) yield lines;
    }
    if (dropping) yield [null];
    else if (carryLen > 0) {
      const whole = Buffer.concat(carry);
      yield [decode(whole, 0, whole.length)];
    }
  } finally {
    // Also reached when the consumer stops early (a rejected push): release the file at once.
    gunzip?.destroy();
    file.destroy();
  }
}
