/**
 * @module One directory, one process: an exclusive flock(2) on `<dir>/LOCK`, taken before anything
 * in the directory is read or written, as Prometheus's TSDB locks its data directory (`lock`, through
 * fileutil.Flock) and etcd its write-ahead log. Two kjournal servers on one data directory interleave
 * catalog ids and log segment numbers; two agents on one state directory ship every line twice.
 *
 * flock, not a pid file: the kernel drops the lock when the process dies, however it dies, so a
 * `kill -9` never leaves a stale lock to clean up by hand, and a pid reused by another process can
 * never be mistaken for the holder. The holder's pid is written into the file after the lock is
 * taken, for the refusal message only (it decides nothing). The lock is per open file description:
 * a second acquisition in the same process (two in-process servers of a test) is refused too. Node
 * opens files close-on-exec, so a child process (journalctl) never inherits the lock.
 *
 * The file is never deleted: deleting it would let a process that opened the old file and one that
 * creates a new one both hold "the" lock.
 *
 * Node has no flock; fs-ext's flockSync(fd, 'exnb') is flock(fd, LOCK_EX | LOCK_NB): it never blocks
 * the event loop.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fsExt from 'fs-ext';
import { isNoSpaceError } from './disk-space.js';
import { mkdirDurable } from './fsync.js';

export const LOCK_FILE = 'LOCK';

/** Another process holds the lock: refused, with its pid when it wrote one. */
export class DirLockError extends Error {
  override readonly name = 'DirLockError';
  readonly code = 'DIR_LOCKED';

  constructor(
    /** The locked directory. */
    readonly dir: string,
    /** What the directory is, for the message (`data directory`, `state directory`). */
    readonly what: string,
    /** The holder's pid, if it could be read. */
    readonly holderPid: number | undefined,
  ) {
    super(
      `${what} ${dir} is in use by another process (pid ${holderPid ?? 'unknown'}, holding ${join(dir, LOCK_FILE)}): ` +
        'one directory serves one process',
    );
  }
}

export interface DirLock {
  readonly dir: string;
  /** The lock file. */
  readonly path: string;
  /** Lets the lock go (idempotent). The file stays. */
  release(): Promise<void>;
}

/**
 * Takes the exclusive lock on `dir`, or throws DirLockError at once when another process (or another
 * holder in this one) has it. `what` names the directory in the message. A missing `dir` is created,
 * unless `create` is false (a command that only inspects a directory): then it is an ENOENT error.
 */
export async function acquireDirLock(
  dir: string,
  what: string,
  { create = true }: { readonly create?: boolean } = {},
): Promise<DirLock> {
  if (create) await mkdirDurable(dir);
  const path = join(dir, LOCK_FILE);
  // Read and write, created if missing, never truncated before the lock is ours.
  const fh = await open(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  try {
    fsExt.flockSync(fh.fd, 'exnb');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') {
      await fh.close();
      throw err;
    }
    let pid = await readPid(path);
    // The holder writes its pid just after locking: a moment later it is there.
    if (pid === undefined) {
      await sleep(100);
      pid = await readPid(path);
    }
    await fh.close();
    throw new DirLockError(dir, what, pid);
  }
  try {
    await fh.truncate(0);
    await fh.write(`${process.pid}\n`, 0);
  } catch (err) {
    // Only informational: on a full disk the lock is still held, the refusal just says "unknown".
    if (!isNoSpaceError(err)) {
      await fh.close();
      throw err;
    }
  }
  let released: Promise<void> | undefined;
  return {
    dir,
    path,
    release() {
      released ??= (async () => {
        // No pid left behind for a refusal to name; then closing the descriptor drops the lock.
        await fh.truncate(0).catch(() => undefined);
        await fh.close();
      })();
      return released;
    },
  };
}

async function readPid(path: string): Promise<number | undefined> {
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(32);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const m = /^(\d+)\n/.exec(buf.subarray(0, bytesRead).toString('utf8'));
      return m ? Number(m[1]) : undefined;
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}
