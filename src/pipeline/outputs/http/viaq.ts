/**
 * @module A record as a document of OpenShift logging's ViaQ data model, the shape Elasticsearch
 * deployments of Kubernetes logs (and Kibana's OpenShift dashboards) read:
 *
 * `{"@timestamp":"...Z","message":"<body>","level":"info","log_type":"application",
 * "hostname":"<node>","kubernetes":{"namespace_name","pod_name","container_name","host","labels"},
 * ...attributes}`
 *
 * `level` follows ViaQ's values (syslog.h's names: emerg, alert, crit, err, warn, notice, info,
 * debug, plus trace and unknown; a number 0-9 is read as that list's index), mapped from the record's `level` / `detected_level` / `severity`
 * attribute or label. `log_type` is the record's class. Attributes are added at the top level
 * unless their name is one of the fields above (or starts with `kubernetes.` or `@`).
 */
import { kubeMeta, labelValue } from '../../../model/kube-meta.js';
import type { LogRecord } from '../../../model/record.js';
import { formatRfc3339Nano } from '../../../model/time.js';

const LEVELS: Record<string, string> = {
  emerg: 'emerg',
  emergency: 'emerg',
  panic: 'emerg',
  alert: 'alert',
  crit: 'crit',
  critical: 'crit',
  fatal: 'crit',
  f: 'crit',
  err: 'err',
  error: 'err',
  eror: 'err',
  e: 'err',
  warning: 'warn',
  warn: 'warn',
  w: 'warn',
  notice: 'notice',
  info: 'info',
  information: 'info',
  informational: 'info',
  i: 'info',
  debug: 'debug',
  dbug: 'debug',
  d: 'debug',
  trace: 'trace',
  t: 'trace',
};

const LEVEL_FIELDS = ['level', 'detected_level', 'severity', 'severity_text'];

const BY_NUMBER = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug', 'trace', 'unknown'];

export function viaqLevel(r: LogRecord): string {
  for (const f of LEVEL_FIELDS) {
    const v = Object.hasOwn(r.attributes, f)
      ? r.attributes[f]
      : Object.hasOwn(r.labels, f)
        ? r.labels[f]
        : undefined;
    if (v === undefined || v === '') continue;
    const key = v.trim().toLowerCase();
    return LEVELS[key] ?? (/^\d$/.test(key) ? BY_NUMBER[Number(key)]! : 'unknown');
  }
  return 'unknown';
}

const RESERVED = new Set(['@timestamp', 'message', 'level', 'log_type', 'hostname', 'kubernetes']);

export function viaqDocument(r: LogRecord): Record<string, unknown> {
  const meta = kubeMeta(r.labels);
  const kubernetes: Record<string, unknown> = {};
  if (meta.namespace !== undefined) kubernetes.namespace_name = meta.namespace;
  if (meta.pod !== undefined) kubernetes.pod_name = meta.pod;
  if (meta.container !== undefined) kubernetes.container_name = meta.container;
  if (meta.node !== undefined) kubernetes.host = meta.node;
  if (Object.keys(meta.podLabels).length > 0) kubernetes.labels = meta.podLabels;
  const doc: Record<string, unknown> = {
    '@timestamp': formatRfc3339Nano(r.timestamp),
    message: r.body,
    level: viaqLevel(r),
  };
  const logType = labelValue(r.labels, 'class');
  if (logType !== undefined) doc.log_type = logType;
  const host = meta.node ?? (Object.hasOwn(r.attributes, 'hostname') ? r.attributes.hostname : undefined);
  if (host !== undefined) doc.hostname = host;
  if (Object.keys(kubernetes).length > 0) doc.kubernetes = kubernetes;
  for (const [k, v] of Object.entries(r.attributes)) {
    if (RESERVED.has(k) || k.startsWith('kubernetes.') || k.startsWith('@')) continue;
    doc[k] = v;
  }
  return doc;
}
