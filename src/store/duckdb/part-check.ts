/**
 * @module Checking Parquet parts for damage: a cheap structural check of the file's two ends (run
 * on every part at start, so a truncated or overwritten part is known before any query touches
 * it), and a full read of every value through DuckDB (after a query fails, and in `kjournal check`).
 *
 * A Parquet file starts and ends with the magic `PAR1`; the four bytes before the final magic are
 * the footer's length, and the footer must fit in the file (Parquet's file format specification).
 */
import { open } from 'node:fs/promises';
import type { DuckDbEngine } from './engine.js';
import { fileList } from './sql.js';

const MAGIC = 'PAR1';

/** Undefined when the part's ends look right, else what is wrong. */
export async function checkPartEnds(path: string): Promise<string | undefined> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, 'r');
    const { size } = await fh.stat();
    if (size < 12) return `${size} bytes is too small to be a Parquet file`;
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(8);
    await fh.read(head, 0, 4, 0);
    await fh.read(tail, 0, 8, size - 8);
    if (head.toString('latin1') !== MAGIC) return 'no Parquet magic at the start';
    if (tail.toString('latin1', 4) !== MAGIC) return 'no Parquet magic at the end (truncated?)';
    const footer = tail.readUInt32LE(0);
    if (footer + 12 > size) return `footer of ${footer} bytes does not fit in ${size} bytes`;
    return undefined;
  } catch (err) {
    return `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  } finally {
    await fh?.close();
  }
}

/**
 * Undefined when every value of the part can be read, else DuckDB's reason. Hashing all columns
 * makes DuckDB decompress and decode every page: a count or min/max would be answered from the
 * footer's statistics alone.
 */
export async function verifyPart(engine: DuckDbEngine, path: string): Promise<string | undefined> {
  const ends = await checkPartEnds(path);
  if (ends) return ends;
  try {
    await engine.all(
      `SELECT count(*), sum(hash(stream, n, ts, observed, attrs, body)) FROM read_parquet(${fileList([path])})`,
    );
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/\s+/g, ' ').slice(0, 300);
  }
}
