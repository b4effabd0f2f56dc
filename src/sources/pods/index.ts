/**
 * @module The `pods` source of `kjournal agent`: container logs from the kubelet's layout
 * `<dir>/<namespace>_<pod>_<uid>/<container>/<restart>.log` (rotated `<restart>.log.<time>`, then
 * `.gz`), CRI (partial `P` pieces joined per stream until `F`) or docker json-file, decided per file
 * by its first line. Namespace, pod, container and stream are labels, the pod uid and restart count
 * attributes, as `kjournal import` makes them (src/formats), plus `node`. Following files,
 * rotation and positions are the tailer's (src/sources/files).
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { criParser } from '../../formats/cri.js';
import { dockerParser } from '../../formats/docker.js';
import { podLogMeta } from '../../formats/pod-path.js';
import { normalizeLabels } from '../../model/normalize.js';
import type { Labels } from '../../model/record.js';
import { parsedFileHandler } from '../files/parsed.js';
import { type FileHandler, type Report, runTailer, type TailerOptions } from '../files/tailer.js';
import type { Source, SourceContext } from '../source.js';

export interface PodLogsOptions {
  /** The kubelet's pod log directory, usually `/var/log/pods`. */
  readonly dir: string;
  /** The node's name: the `node` label of every record. */
  readonly node: string;
  /** On the agent's first start, read what the files already hold (default true). */
  readonly fromStart?: boolean;
  /** The pod's labels (from an informer), added as labels; undefined when unknown. */
  readonly labelsFor?: (namespace: string, pod: string) => Readonly<Record<string, string>> | undefined;
  /** Tailer tuning (poll interval, max line length, batch bounds). */
  readonly tailer?: Pick<
    TailerOptions,
    'pollMs' | 'maxLineBytes' | 'chunkBytes' | 'batchLines' | 'batchBytes'
  >;
}

const ROTATED = /^(\d+)\.log(?:\.(\d{8}-\d{6}))?(\.gz)?$/;

/** Per container directory: by restart count, rotated files (oldest first) before the live one. */
export function comparePodLogs(a: string, b: string): number {
  const da = dirname(a);
  const db = dirname(b);
  if (da !== db) return da < db ? -1 : 1;
  const ma = ROTATED.exec(basename(a));
  const mb = ROTATED.exec(basename(b));
  if (!ma || !mb) return a < b ? -1 : a > b ? 1 : 0;
  const ra = Number(ma[1]);
  const rb = Number(mb[1]);
  if (ra !== rb) return ra - rb;
  const ta = ma[2] ?? '~'; // live file last
  const tb = mb[2] ?? '~';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (ma[3] ? 0 : 1) - (mb[3] ? 0 : 1);
}

/** Every pod log file under `dir`; rejects (ENOENT) only when `dir` itself is missing. */
export async function listPodLogs(dir: string): Promise<string[]> {
  const out: string[] = [];
  const podDirs = await readdir(dir, { withFileTypes: true });
  for (const pd of podDirs) {
    if (!pd.isDirectory()) continue;
    let containers: string[];
    try {
      containers = await readdir(join(dir, pd.name));
    } catch {
      continue;
    }
    for (const c of containers) {
      let files: string[];
      try {
        files = await readdir(join(dir, pd.name, c));
      } catch {
        continue;
      }
      for (const f of files) {
        const path = join(dir, pd.name, c, f);
        if (ROTATED.test(f) && podLogMeta(path)) out.push(path);
      }
    }
  }
  return out;
}

/** One file's lines through the import's CRI or docker parser, chosen by the first line. */
export function podLogHandler(path: string, report: Report, opts: PodLogsOptions): FileHandler {
  const pod = podLogMeta(path);
  // Per parser labels object: the pod labels it was merged with, and the result.
  const labelCache = new WeakMap<Labels, { pod: object | undefined; all: Labels }>();
  const labelsOf = (labels: Labels): Labels => {
    // Asked per entry (an informer's cache lookup), so labels known only later still apply.
    const podLabels = pod && opts.labelsFor ? opts.labelsFor(pod.namespace, pod.pod) : undefined;
    let cached = labelCache.get(labels);
    if (cached === undefined || cached.pod !== podLabels) {
      cached = { pod: podLabels, all: normalizeLabels({ ...podLabels, ...labels, node: opts.node }) };
      labelCache.set(labels, cached);
    }
    return cached.all;
  };
  const ctx = { path, pod };
  return parsedFileHandler(path, report, labelsOf, (first, sink) =>
    (first.startsWith('{') ? dockerParser : criParser)(ctx, sink),
  );
}

export function createPodLogsSource(opts: PodLogsOptions): Source {
  return {
    name: 'pods',
    run(ctx: SourceContext) {
      return runTailer(ctx, {
        ...opts.tailer,
        fromStart: opts.fromStart ?? true,
        discover: () => listPodLogs(opts.dir),
        handler: (path, report) => podLogHandler(path, report, opts),
        compare: comparePodLogs,
        isRotated: (path) => !/^\d+\.log$/.test(basename(path)),
      });
    },
  };
}
