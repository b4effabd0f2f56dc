/**
 * @module Real journal files for the journal source's tests: entries are written in the journal
 * export format and turned into a journal file by `systemd-journal-remote` (Debian package
 * `systemd-journal-remote`); the source reads them back through the real `journalctl`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const JOURNAL_REMOTE = '/usr/lib/systemd/systemd-journal-remote';
export const BOOT_ID = '590edceeef5545a784ec8c6181a10400';

let clockUs = BigInt(Date.now()) * 1000n;

/** One entry in export format; values with a newline or control bytes are written binary-safe. */
export function exportEntry(fields: Readonly<Record<string, string>>, realtimeUs?: bigint): Buffer {
  clockUs += 1000n;
  const rt = realtimeUs ?? clockUs;
  const parts: Buffer[] = [
    Buffer.from(`__REALTIME_TIMESTAMP=${rt}\n__MONOTONIC_TIMESTAMP=${rt}\n_BOOT_ID=${BOOT_ID}\n`),
  ];
  for (const [k, v] of Object.entries(fields)) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: binary-safe fields are for control bytes
    if (/[\x00-\x1f]/.test(v)) {
      const bytes = Buffer.from(v, 'utf8');
      const size = Buffer.alloc(8);
      size.writeBigUInt64LE(BigInt(bytes.length));
      parts.push(Buffer.from(`${k}\n`), size, bytes, Buffer.from('\n'));
    } else {
      parts.push(Buffer.from(`${k}=${v}\n`));
    }
  }
  parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

/** Appends entries to `dir/remote.journal` (created on first use) with systemd-journal-remote. */
export async function writeJournal(
  dir: string,
  entries: readonly Buffer[],
  file = 'remote.journal',
): Promise<void> {
  const child = spawn(JOURNAL_REMOTE, [`--output=${join(dir, file)}`, '--split-mode=none', '-'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr += s;
  });
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(Buffer.concat(entries));
  const code = await done;
  if (code !== 0) throw new Error(`systemd-journal-remote exited with ${code}: ${stderr}`);
}
