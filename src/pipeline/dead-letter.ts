/**
 * @module The dead-letter file of an output, `<dir>/<output>.deadletter.ndjson`: the records a peer
 * rejected (a non-retryable OutputError), one JSON line each with the reason and when, appended and
 * fsynced before the batch leaves the buffer, so a rejected record is never lost silently.
 *
 * `{"time":"2024-05-01T10:00:00.000Z","output":"siem","reason":"...","record":{...}}`
 */
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncDir } from '../disk/fsync.js';
import type { LogRecord } from '../model/record.js';
import { recordToObject } from './record-json.js';

export function deadLetterPath(dir: string, output: string): string {
  return join(dir, `${output}.deadletter.ndjson`);
}

export async function appendDeadLetters(
  file: string,
  output: string,
  reason: string,
  records: readonly LogRecord[],
  now = new Date(),
): Promise<void> {
  const time = now.toISOString();
  let text = '';
  for (const r of records) text += `${JSON.stringify({ time, output, reason, record: recordToObject(r) })}\n`;
  const fh = await open(file, 'a');
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  // The file may be new: its directory entry must survive too.
  await fsyncDir(dirname(file));
}
