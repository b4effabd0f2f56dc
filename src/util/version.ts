/**
 * @module kjournal's version and revision, for `--version`, the APIs' build info and the
 * `kjournal_build_info` metric (as Prometheus' `prometheus_build_info`).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Gauge, type Registry } from 'prom-client';

/** The package's root: the directory of kjournal's own package.json, upwards from this file. */
function packageRoot(): { dir: string; version: string } | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'kjournal' && typeof pkg.version === 'string') return { dir, version: pkg.version };
    } catch {
      // Not here: one directory up.
    }
    dir = dirname(dir);
  }
  return undefined;
}

let root: ReturnType<typeof packageRoot> | null = null;
function cachedRoot(): ReturnType<typeof packageRoot> {
  if (root === null) root = packageRoot();
  return root;
}

/**
 * kjournal's version, from its own package.json (found upwards from this file: src/util/ or
 * dist/src/util/). Not `npm_package_version`: npm sets that to the version of whatever package runs
 * the script, so `kjournal --version` inside another project's `npm run` printed that project's.
 */
export function ownVersion(): string {
  return cachedRoot()?.version ?? 'unknown';
}

/**
 * The commit kjournal was built from: a `REVISION` file beside package.json (one line, which an
 * image build may write with `git rev-parse HEAD > REVISION`), else the commit a git checkout's
 * HEAD names (read from .git, git is never run), else "unknown" (an installed package or an image
 * built without the file).
 */
export function ownRevision(): string {
  const dir = cachedRoot()?.dir;
  if (dir === undefined) return 'unknown';
  const file = readTrimmed(join(dir, 'REVISION'));
  if (file && /^[0-9a-f]{7,64}$/i.test(file)) return file.toLowerCase();
  return gitHead(join(dir, '.git')) ?? 'unknown';
}

const COMMIT = /^[0-9a-f]{40,64}$/;

function readTrimmed(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The commit HEAD names in a git directory (or a worktree's `.git` file pointing to one). */
function gitHead(dotGit: string): string | undefined {
  let gitDir = dotGit;
  const pointer = /^gitdir: (.+)$/.exec(readTrimmed(dotGit) ?? '')?.[1];
  if (pointer !== undefined) gitDir = resolve(dirname(dotGit), pointer);
  const head = readTrimmed(join(gitDir, 'HEAD'));
  if (head === undefined || COMMIT.test(head)) return head;
  const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
  if (ref === undefined) return undefined;
  // A worktree's branches are in the main repository's directory (its `commondir`).
  const common = resolve(gitDir, readTrimmed(join(gitDir, 'commondir')) ?? '.');
  for (const d of [gitDir, common]) {
    const loose = readTrimmed(join(d, ref));
    if (loose && COMMIT.test(loose)) return loose;
  }
  const packed = readTrimmed(join(common, 'packed-refs'))
    ?.split('\n')
    .find((l) => l.endsWith(` ${ref}`))
    ?.split(' ')[0];
  return packed && COMMIT.test(packed) ? packed : undefined;
}

/** The labels of `kjournal_build_info`. */
export function buildInfoLabels(): { version: string; revision: string; nodejs_version: string } {
  return { version: ownVersion(), revision: ownRevision(), nodejs_version: process.version };
}

/** `kjournal_build_info` in `registry`: the server's and the agent's, one name (told apart by the scrape's job). */
export function registerBuildInfo(registry: Registry): void {
  new Gauge({
    name: 'kjournal_build_info',
    help: 'Always 1; its labels say which kjournal runs (as prometheus_build_info).',
    labelNames: ['version', 'revision', 'nodejs_version'],
    registers: [registry],
  }).set(buildInfoLabels(), 1);
}
