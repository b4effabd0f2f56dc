/**
 * @module The audit log source's section of the agent configuration and its flag:
 *
 * ```yaml
 * audit: { path: /var/log/kubernetes/audit/audit.log }
 * ```
 *
 * Flag: `--audit-log PATH`.
 */
import { req, section, str } from '../config-values.js';

export interface AuditSection {
  readonly path: string;
}

export interface AuditFlags {
  auditLog?: string;
}

export function auditFromFile(value: unknown): AuditSection {
  const s = section(value, 'audit', ['path']);
  return { path: req(str(s.path, 'audit.path'), 'audit.path') };
}

/** The flag over the file's section (the flag wins). */
export function auditWithFlags(s: AuditSection | undefined, flags: AuditFlags): AuditSection | undefined {
  return flags.auditLog !== undefined ? { path: flags.auditLog } : s;
}
