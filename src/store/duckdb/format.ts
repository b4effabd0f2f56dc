/**
 * @module The embedded store's format file, `<data>/FORMAT`: which layout of files the directory
 * holds, so that a kjournal never reads a layout it does not know. One line of JSON,
 * `{"format":1,"written_by":"kjournal 0.1.0"}`: `format` decides, `written_by` only informs the
 * messages (and whoever looks).
 *
 * As Prometheus' TSDB writes a `version` in each block's meta.json and refuses one it does not
 * know, and as Elasticsearch refuses a data path written by a newer node ("cannot downgrade a node
 * from version ..."): a directory of a newer format is refused at open, with the two formats and
 * what to do, and nothing in it is changed; after a rollback (`kubectl rollout undo`) the older
 * kjournal stops instead of misreading. The ClickHouse backend does the same with its schema
 * version (clickhouse/schema.ts).
 *
 * - A new directory gets the file before anything else is written into it.
 * - A directory without the file was written by a kjournal of before format files: it is format 1,
 *   and gets the file (on a full volume, at the next start: the start itself is not refused).
 * - An older format is converted at open, and the file rewritten after the conversion (there is
 *   none so far: format 1 is the first).
 * - A file that cannot be read as above (not JSON, no positive whole `format`) is an error naming
 *   it, never rewritten: deleting or guessing it would let the directory be read as format 1.
 *
 * The file is written atomically (temporary file, fsync, rename, fsync of the directory). The
 * caller holds the directory's lock (disk/dir-lock.ts), taken before the store opens, so two
 * processes never both find it missing and write it.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCK_FILE } from '../../disk/dir-lock.js';
import { isNoSpaceError } from '../../disk/disk-space.js';
import { writeFileAtomic } from '../../disk/fsync.js';
import { ownVersion } from '../../util/version.js';
import { StoreSetupError } from '../store.js';

export const FORMAT_FILE = 'FORMAT';

/** The layout this build reads and writes; bump it (with a conversion from the one before) when the files change. */
export const STORE_FORMAT = 1;

/** What a format file says. */
export interface DataFormat {
  readonly format: number;
  /** The kjournal that wrote the file (`kjournal 0.1.0`), when it says. */
  readonly writtenBy?: string;
}

/**
 * The data directory cannot be opened by this build: its format is newer (`STORE_FORMAT_NEWER`),
 * or its format file cannot be read (`STORE_FORMAT_DAMAGED`). A setup error: retrying will not
 * help, the CLI exits 2 with the message, as for a ClickHouse schema of a newer kjournal.
 */
export class StoreFormatError extends StoreSetupError {
  override readonly name = 'StoreFormatError';
  override readonly code: 'STORE_FORMAT_NEWER' | 'STORE_FORMAT_DAMAGED';

  constructor(
    message: string,
    code: 'STORE_FORMAT_NEWER' | 'STORE_FORMAT_DAMAGED',
    /** The format file. */
    readonly path: string,
    /** The format it names, when it could be read. */
    readonly found?: number,
  ) {
    super(message);
    this.code = code;
  }
}

/** The line written into a new format file. */
export function formatFileText(format = STORE_FORMAT): string {
  return `${JSON.stringify({ format, written_by: `kjournal ${ownVersion()}` })}\n`;
}

/**
 * What `<dir>/FORMAT` says, or undefined when there is none (a new directory, or one of a kjournal
 * of before format files). A file that says nothing usable is a StoreFormatError naming it.
 */
export async function readFormat(dir: string): Promise<DataFormat | undefined> {
  const path = join(dir, FORMAT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const damaged = (why: string): StoreFormatError =>
    new StoreFormatError(
      `the format file ${path} is damaged (${why}); it says which layout the data directory holds, so it is ` +
        `not rewritten: restore it from a copy, or write {"format":${STORE_FORMAT}} into it if this directory ` +
        `was written by kjournal ${ownVersion()} or earlier`,
      'STORE_FORMAT_DAMAGED',
      path,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw damaged(text.trim() === '' ? 'empty' : 'not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw damaged('not a JSON object');
  const { format, written_by: writtenBy } = parsed as { format?: unknown; written_by?: unknown };
  if (typeof format !== 'number' || !Number.isSafeInteger(format) || format < 1) {
    throw damaged(
      `"format" is ${format === undefined ? 'missing' : JSON.stringify(format)}, not a whole number from 1`,
    );
  }
  return typeof writtenBy === 'string' ? { format, writtenBy } : { format };
}

/** What `openFormat` found: the format, and whether the file was written now (`new` or `unversioned` directory). */
export interface OpenedFormat extends DataFormat {
  readonly written?: 'new' | 'unversioned';
  /** Why the file could not be written (a full volume): it is written at the next start. */
  readonly notWritten?: string;
}

/**
 * Makes sure this build can read the data directory `dir` (which exists), before anything in it is
 * read or written: refuses a newer format (StoreFormatError, the directory untouched), writes the
 * file where there is none (a new directory, or one of a kjournal of before format files).
 */
export async function openFormat(dir: string): Promise<OpenedFormat> {
  const found = await readFormat(dir);
  if (found === undefined) {
    // The lock file (taken first) and a format file's unfinished write say nothing of the data.
    const others = (await readdir(dir)).filter((n) => n !== LOCK_FILE && n !== `${FORMAT_FILE}.tmp`);
    try {
      await writeFileAtomic(join(dir, FORMAT_FILE), formatFileText());
    } catch (err) {
      // A full volume must not stop the start (its writes answer 507 until there is room): without
      // the file the directory is format 1, which this build reads; the next start writes it.
      if (!isNoSpaceError(err)) throw err;
      await rm(join(dir, `${FORMAT_FILE}.tmp`), { force: true });
      return { format: STORE_FORMAT, notWritten: (err as Error).message };
    }
    return {
      format: STORE_FORMAT,
      writtenBy: `kjournal ${ownVersion()}`,
      written: others.length > 0 ? 'unversioned' : 'new',
    };
  }
  refuseNewer(dir, found);
  // found.format < STORE_FORMAT would be converted here, the file rewritten after; none so far.
  return found;
}

/** Throws the StoreFormatError of a directory whose format is newer than this build's. */
export function refuseNewer(dir: string, found: DataFormat): void {
  if (found.format <= STORE_FORMAT) return;
  const by = found.writtenBy === undefined ? '' : `, by ${found.writtenBy}`;
  throw new StoreFormatError(
    `the data directory ${dir} was written by a newer kjournal (format ${found.format}${by}; this build, ` +
      `kjournal ${ownVersion()}, reads format ${STORE_FORMAT}): run the newer version, or restore a copy ` +
      'taken before the upgrade',
    'STORE_FORMAT_NEWER',
    join(dir, FORMAT_FILE),
    found.format,
  );
}
