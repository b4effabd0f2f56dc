/**
 * @module Small durable-file helpers: fsync of files and directories, atomic replace, complete
 * positional writes. A rename or a new file is only durable once the directory that holds it is
 * fsynced (POSIX).
 */

import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export const fsyncDir = (dir: string): Promise<void> => fsyncPath(dir);

/** Creates `dir` (and parents) and fsyncs each parent it created into, so the new entries survive. */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  // `first` is the topmost directory created; every directory from its parent down to `dir` changed.
  let d = dir;
  for (;;) {
    await fsyncDir(dirname(d));
    if (d === first || dirname(d) === d) break;
    d = dirname(d);
  }
}

/** Writes `data` to `path` so that after a crash the file holds either the old or the new content. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, data);
  await fsyncPath(tmp);
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

/**
 * Writes all of `buf` at `position`. `write` may write less than asked without an error (a full
 * disk, a file-size limit); the rest is retried until written or an error says why not.
 */
export async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten === 0) {
      // Linux answers a write with no room at all with ENOSPC; a 0 without an error is the same
      // condition, and carries its code so that callers treat it as a full disk (507, a pause).
      throw Object.assign(new Error(`short write: ${done} of ${buf.length} bytes written (disk full?)`), {
        code: 'ENOSPC',
      });
    }
    done += bytesWritten;
  }
}
