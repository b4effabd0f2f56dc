/**
 * @module The files to import: paths given, directories walked, each file once (the kubelet's
 * /var/log/containers links point into /var/log/pods), ordered so that rotated files come before the
 * file they were rotated from and restarts in order: the server then sees each stream's lines oldest
 * first, the way they were written.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ImportError } from './errors.js';

export interface ImportFile {
  /** The path as found (for messages). */
  readonly path: string;
  /** The real path, for pod metadata when `path` is a /var/log/containers link. */
  readonly realPath: string;
  readonly size: number;
  /** The modification time, nanoseconds: the time of lines that carry none (`--missing-time mtime`). */
  readonly mtimeNs: bigint;
}

/** Leftovers of rotation in progress (the kubelet compresses to `.gz.tmp`) and hidden files. */
const SKIP = (name: string) => name.startsWith('.') || name.endsWith('.tmp');

/**
 * Orders names of one directory: base name, then rotated copies oldest first, then the live file.
 * Kubelet: `0.log.20261123-100000[.gz]`; lumberjack (kube-apiserver): `audit-2026-11-23T10-00-00.000.log[.gz]`;
 * logrotate: `x.log.2.gz`, `x.log.1` (higher is older).
 */
export function rotationKey(name: string): { base: string; rank: number; stamp: string } {
  const n = name.replace(/\.gz$/, '');
  let m = /^(.*\.log)\.(\d{8}-\d{6})$/.exec(n);
  if (m) return { base: m[1] ?? n, rank: 0, stamp: m[2] ?? '' };
  m = /^(.*)-(\d{4}-\d{2}-\d{2}T[\d.-]+)(\.[^.]+)$/.exec(n);
  if (m) return { base: `${m[1]}${m[3]}`, rank: 0, stamp: m[2] ?? '' };
  m = /^(.*)\.(\d{1,4})$/.exec(n);
  if (m) return { base: m[1] ?? n, rank: 0, stamp: String(99999 - Number(m[2])).padStart(5, '0') };
  return { base: n, rank: 1, stamp: '' };
}

const collator = new Intl.Collator('en', { numeric: true });

export function compareFiles(a: string, b: string): number {
  const da = dirname(a);
  const db = dirname(b);
  if (da !== db) return collator.compare(da, db);
  const ka = rotationKey(basename(a));
  const kb = rotationKey(basename(b));
  return (
    collator.compare(ka.base, kb.base) ||
    ka.rank - kb.rank ||
    ka.stamp.localeCompare(kb.stamp) ||
    a.localeCompare(b)
  );
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (SKIP(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() || e.isSymbolicLink()) out.push(p);
  }
}

export async function collectFiles(paths: readonly string[]): Promise<ImportFile[]> {
  const found: string[] = [];
  for (const p of paths) {
    let s: Awaited<ReturnType<typeof stat>>;
    try {
      s = await stat(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ImportError(`cannot import ${p}: ${code === 'ENOENT' ? 'no such file or directory' : code}`);
    }
    if (s.isDirectory()) await walk(p, found);
    else found.push(p);
  }
  const seen = new Set<string>();
  const files: ImportFile[] = [];
  for (const p of found) {
    let real: string;
    let size: number;
    let mtimeNs: bigint;
    try {
      real = await realpath(p);
      const s = await stat(real, { bigint: true });
      if (!s.isFile()) continue;
      size = Number(s.size);
      mtimeNs = s.mtimeNs;
    } catch {
      continue; // A dangling link (the container's log was removed): nothing to read.
    }
    if (seen.has(real)) continue;
    seen.add(real);
    files.push({ path: p, realPath: resolve(real), size, mtimeNs });
  }
  // Sort by the real path so that links and their targets order the same way.
  return files.sort((a, b) => compareFiles(a.realPath, b.realPath));
}
