/**
 * @module A directory's listing for "nothing changed" checks: every file and directory under it
 * with its size and modification time, sorted.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Every entry under `dir` as `<relative path> <size|dir> <mtimeMs>`, except the names in `except`. */
export async function dirListing(dir: string, except: readonly string[] = []): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (except.includes(e.name)) continue;
    const path = join(e.parentPath, e.name);
    const st = await stat(path);
    out.push(`${path.slice(dir.length)} ${e.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`);
  }
  return out.sort();
}
