/**
 * @module Checking a data directory file by file (`kjournal check DATA_DIR`): every Parquet part
 * read through in full, every write-ahead-log segment checked record by record (its checksums)
 * and read through DuckDB, the catalog and the state file parsed. With `repair`, a damaged part is
 * moved to `quarantine/` (its data is then out of every answer, knowingly), and a damaged segment
 * keeps its good records (the rest, and the original, go to `quarantine/`). The server must not be
 * running: the caller holds the directory's lock.
 */
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fsyncDir, mkdirDurable, writeFileAtomic } from '../../disk/fsync.js';
import type { CheckProblem, CheckReport } from '../store.js';
import { parseCatalogLine } from './catalog.js';
import { DuckDbEngine } from './engine.js';
import { FORMAT_FILE, readFormat, refuseNewer, STORE_FORMAT, StoreFormatError } from './format.js';
import { verifyPart } from './part-check.js';
import { readWal } from './sql.js';
import { salvageSegment } from './wal/salvage.js';
import { goodBytesOf, scanSegment } from './wal/verify.js';

const PART = /^\d{12}-\d{12}(?:\.g\d{1,9})?\.parquet$/;
const SEGMENT = /^\d{12}\.(wal2|wal|ndjson)$/;

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function checkDataDir(dir: string, asked: { repair?: boolean } = {}): Promise<CheckReport> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`${dir} is not a directory`);
  const problems: CheckProblem[] = [];
  const notes: string[] = [];
  const quarantine = join(dir, 'quarantine');
  const quarantined = (await list(quarantine)).length;
  const rel = (p: string) => relative(dir, p);
  const setAside = async (path: string): Promise<string> => {
    await mkdirDurable(quarantine);
    const to = join(quarantine, `${rel(path).replaceAll('/', '_')}.${Date.now()}`);
    await rename(path, to);
    await fsyncDir(join(path, '..'));
    return `moved to ${rel(to)}`;
  };

  // Before any file is judged: a layout this build does not know is not checked (nor "repaired").
  const format = await checkFormat(dir, problems, notes);
  // Without a readable format, files are judged as format 1 would have them, but none is moved.
  const options = { repair: asked.repair === true && format !== undefined };
  if (asked.repair && !options.repair) notes.push(`nothing is repaired while ${FORMAT_FILE} cannot be read`);
  await checkCatalog(join(dir, 'catalog.ndjson'), problems, notes);
  try {
    JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      problems.push({ file: 'state.json', problem: `not valid JSON: ${(err as Error).message}` });
    }
  }

  const tmp = join(dir, 'tmp', 'check');
  await mkdir(tmp, { recursive: true });
  const engine = await DuckDbEngine.create({ threads: 2, memoryLimit: '256MB', tempDirectory: tmp });
  let parts = 0;
  let segments = 0;
  try {
    const partsDir = join(dir, 'parts');
    for (const t of await list(partsDir)) {
      for (const day of await list(join(partsDir, t))) {
        for (const name of await list(join(partsDir, t, day))) {
          const path = join(partsDir, t, day, name);
          if (name.endsWith('.tmp')) {
            notes.push(`${rel(path)}: an unfinished write, deleted at the next start`);
            continue;
          }
          if (!PART.test(name)) continue;
          parts++;
          const problem = await verifyPart(engine, path);
          if (problem === undefined) continue;
          problems.push({
            file: rel(path),
            problem,
            ...(options.repair ? { repaired: await setAside(path) } : {}),
          });
        }
      }
    }

    const walDir = join(dir, 'wal');
    for (const name of await list(walDir)) {
      const m = SEGMENT.exec(name);
      if (!m) continue;
      segments++;
      const path = join(walDir, name);
      if (m[1] === 'wal2') {
        const buf = await readFile(path);
        const scan = scanSegment(buf);
        if (scan.damaged.length > 0) {
          const bytes = scan.damaged.reduce((n, d) => n + d.bytes, 0);
          const problem = `${scan.damaged.length} damaged region(s), ${bytes} bytes, fail their checksum (${scan.records} good record(s))`;
          let repaired: string | undefined;
          if (options.repair) {
            repaired = await setAside(path);
            await writeFileAtomic(path, goodBytesOf(buf, scan));
            repaired += `; its ${scan.records} good record(s) kept`;
          }
          problems.push({ file: rel(path), problem, ...(repaired ? { repaired } : {}) });
          if (repaired) continue;
        } else if (scan.tornBytes > 0) {
          notes.push(
            `${rel(path)}: a torn last record of ${scan.tornBytes} bytes (never acknowledged), dropped at the next start`,
          );
        }
      }
      try {
        await engine.all(`SELECT count(*), sum(hash(g, s, n, t, o, a, b)) FROM ${readWal([path])}`);
      } catch (err) {
        const problem = `cannot be read: ${(err as Error).message.replace(/\s+/g, ' ').slice(0, 300)}`;
        let repaired: string | undefined;
        if (options.repair) {
          const s = await salvageSegment(path, quarantine);
          repaired =
            s.kept > 0
              ? `${s.dropped} malformed line(s) moved to ${rel(s.quarantined)}, ${s.kept} kept`
              : `moved to ${rel(s.quarantined)}`;
        }
        problems.push({ file: rel(path), problem, ...(repaired ? { repaired } : {}) });
      }
    }
  } finally {
    engine.close();
    await rm(tmp, { recursive: true, force: true });
  }
  return { parts, segments, problems, notes, quarantined, ...(format === undefined ? {} : { format }) };
}

/**
 * The directory's format (format.ts): a newer one is refused (StoreFormatError), a damaged file is a
 * problem that no repair touches, a missing one a note (the next start writes it).
 */
async function checkFormat(
  dir: string,
  problems: CheckProblem[],
  notes: string[],
): Promise<number | undefined> {
  let found: Awaited<ReturnType<typeof readFormat>>;
  try {
    found = await readFormat(dir);
  } catch (err) {
    if (!(err instanceof StoreFormatError)) throw err;
    problems.push({ file: FORMAT_FILE, problem: err.message });
    return undefined;
  }
  if (found === undefined) {
    notes.push(
      `${FORMAT_FILE}: none (a directory of a kjournal of before format files): format ${STORE_FORMAT}, written at the next start`,
    );
    return STORE_FORMAT;
  }
  refuseNewer(dir, found);
  return found.format;
}

/** Every catalog line must parse and pass its checksum; a torn last line is a note (cut at the next start). */
async function checkCatalog(path: string, problems: CheckProblem[], notes: string[]): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length)
    notes.push(`catalog.ndjson: a torn last line of ${text.length - end} bytes, cut at the next start`);
  const lines = text.slice(0, end).split('\n');
  const bad = lines.flatMap((line, i) => (line && !parseCatalogLine(line) ? [i + 1] : []));
  if (bad.length > 0) {
    problems.push({
      file: 'catalog.ndjson',
      problem: `line(s) ${bad.join(', ')} fail their check: the streams they name cannot be served (no repair can restore them)`,
    });
  }
}
