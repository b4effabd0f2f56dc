/**
 * @module The `audit` source of `kjournal agent`: kube-apiserver's log backend file (`--audit-log-path`,
 * e.g. `/var/log/kubernetes/audit/audit.log`) and its rotated siblings as lumberjack names them
 * (`audit-<time>.log`, `.gz` when compressed). One audit.k8s.io/v1 Event per line, made into a record
 * exactly as `kjournal import --format audit` does (src/import/formats/audit.ts: `kind=auditevent`,
 * class `audit`, timestamped by `stageTimestamp`, verb, user and objectRef as attributes), plus `node`.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { auditParser } from '../../import/formats/audit.js';
import { normalizeLabels } from '../../model/normalize.js';
import type { Labels } from '../../model/record.js';
import { parsedFileHandler } from '../files/parsed.js';
import { type FileHandler, type Report, runTailer, type TailerOptions } from '../files/tailer.js';
import type { Source, SourceContext } from '../source.js';

export interface AuditLogOptions {
  /** The audit log file (`--audit-log-path`). */
  readonly path: string;
  /** The node's name: the `node` label of every record. */
  readonly node: string;
  /** On the agent's first start, read what the files already hold (default true). */
  readonly fromStart?: boolean;
  readonly tailer?: Pick<
    TailerOptions,
    'pollMs' | 'maxLineBytes' | 'chunkBytes' | 'batchLines' | 'batchBytes'
  >;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches the live file and lumberjack's backups `<stem>-<time><ext>[.gz]`. */
export function auditFileMatcher(path: string): { live: string; rotated: RegExp } {
  const live = basename(path);
  const ext = extname(live);
  const stem = live.slice(0, live.length - ext.length);
  return { live, rotated: new RegExp(`^${escapeRe(stem)}-.+${escapeRe(ext)}(?:\\.gz)?$`) };
}

export async function listAuditLogs(path: string): Promise<string[]> {
  const dir = dirname(path);
  const { live, rotated } = auditFileMatcher(path);
  const names = await readdir(dir);
  return names.filter((n) => n === live || rotated.test(n)).map((n) => join(dir, n));
}

/** Backups oldest first (their names hold the time), the live file last. */
export function compareAuditLogs(live: string): (a: string, b: string) => number {
  return (a, b) => {
    const la = basename(a) === live;
    const lb = basename(b) === live;
    if (la !== lb) return la ? 1 : -1;
    const ka = a.replace(/\.gz$/, '');
    const kb = b.replace(/\.gz$/, '');
    if (ka !== kb) return ka < kb ? -1 : 1;
    return a.endsWith('.gz') ? -1 : b.endsWith('.gz') ? 1 : 0;
  };
}

export function auditHandler(path: string, report: Report, node: string): FileHandler {
  const cache = new WeakMap<Labels, Labels>();
  const labelsOf = (labels: Labels): Labels => {
    let all = cache.get(labels);
    if (all === undefined) {
      all = normalizeLabels({ ...labels, node });
      cache.set(labels, all);
    }
    return all;
  };
  return parsedFileHandler(path, report, labelsOf, (_, sink) => auditParser({ path }, sink));
}

/** The audit log source's name (the audit policy wraps this source only). */
export const AUDIT_SOURCE = 'audit';

export function createAuditLogSource(opts: AuditLogOptions): Source {
  return {
    name: AUDIT_SOURCE,
    run(ctx: SourceContext) {
      return runTailer(ctx, {
        ...opts.tailer,
        fromStart: opts.fromStart ?? true,
        discover: () => listAuditLogs(opts.path),
        handler: (path, report) => auditHandler(path, report, opts.node),
        compare: compareAuditLogs(basename(opts.path)),
        isRotated: (path) => basename(path) !== basename(opts.path),
      });
    },
  };
}
