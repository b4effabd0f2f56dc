/**
 * @module Server-side tables (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), what
 * `kubectl get` prints: a few columns per resource, more with `-o wide` (priority 1).
 */

import { parseAccept } from './accept.js';
import { fieldValue, type KubeObject, TIMESTAMP_ANNOTATION } from './objects.js';
import type { KubeResource } from './resources.js';

export interface ColumnDefinition {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date';
  readonly format: string;
  readonly description: string;
  readonly priority: number;
}

export interface TableRow {
  readonly cells: unknown[];
  readonly object?: unknown;
}

export interface Table {
  readonly kind: 'Table';
  readonly apiVersion: 'meta.k8s.io/v1';
  readonly metadata: { resourceVersion?: string; continue?: string };
  readonly columnDefinitions?: readonly ColumnDefinition[];
  readonly rows: TableRow[];
}

/** What a row's `object` holds (the `includeObject` parameter). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

interface Column {
  readonly def: ColumnDefinition;
  cell(obj: KubeObject, now: number): unknown;
}

const col = (
  name: string,
  description: string,
  cell: (obj: KubeObject, now: number) => unknown,
  priority = 0,
  format = '',
  type: ColumnDefinition['type'] = 'string',
): Column => ({ def: { name, type, format, description, priority }, cell });

const MAX_MESSAGE = 1000;

/** One line of text for a cell: newlines folded, long text cut. */
function oneLine(text: string): string {
  const t = text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return t.length > MAX_MESSAGE ? `${t.slice(0, MAX_MESSAGE)}…` : t;
}

/** The message of a payload: the text, or the usual message field of a JSON object, else its JSON. */
export function messageOf(payload: unknown): string {
  if (typeof payload === 'string') return oneLine(payload);
  if (typeof payload === 'object' && payload !== null) {
    for (const k of ['msg', 'message', 'log', 'MESSAGE', 'text']) {
      const v = (payload as Record<string, unknown>)[k];
      if (typeof v === 'string') return oneLine(v);
    }
    return oneLine(JSON.stringify(payload));
  }
  return '';
}

/** The entry's time with milliseconds (`2026-11-23T17:10:00.123Z`). */
function timeCell(obj: KubeObject): string {
  const nano = obj.metadata.annotations[TIMESTAMP_ANNOTATION] ?? obj.metadata.creationTimestamp;
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(nano);
  if (!m) return nano;
  return `${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
}

/** A short age, as kubectl prints ages (`45s`, `12m`, `3h`, `5d`). */
export function shortAge(fromMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - fromMs) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const str = (obj: KubeObject, path: string): string => fieldValue(obj, path) ?? '';

const NAME = col(
  'Name',
  'The object name (timestamp and sequence number of the entry).',
  (o) => o.metadata.name,
  1,
  'name',
);

const COLUMNS: Record<string, readonly Column[]> = {
  containerlogs: [
    col('Time', 'When the line was written.', timeCell, 0, 'date'),
    col('Pod', 'The pod.', (o) => str(o, 'pod')),
    col('Container', 'The container.', (o) => str(o, 'container')),
    col('Message', 'The line, or the message of a JSON line.', (o) => messageOf(o.payload)),
    NAME,
    col('Node', 'The node.', (o) => str(o, 'node'), 1),
    col('Stream', 'stdout or stderr.', (o) => str(o, 'stream'), 1),
  ],
  events: [
    col('Last Seen', 'Time since the event was last seen.', (o, now) => {
      const t = Date.parse(str(o, 'eventTime'));
      return Number.isNaN(t) ? '' : shortAge(t, now);
    }),
    col('Type', 'Normal or Warning.', (o) => str(o, 'type')),
    col('Reason', 'Why the event was emitted.', (o) => str(o, 'reason')),
    col('Object', 'The object the event is about.', (o) => {
      const kind = str(o, 'regarding.kind').toLowerCase();
      const name = str(o, 'regarding.name');
      return kind ? `${kind}/${name}` : name;
    }),
    col('Message', 'The note.', (o) => oneLine(str(o, 'note'))),
    NAME,
    col('Source', 'The reporting controller.', (o) => str(o, 'reportingController'), 1),
    col(
      'Count',
      'How often it happened.',
      (o) => str(o, 'series.count') || str(o, 'deprecatedCount') || '1',
      1,
    ),
    col('Time', 'The event time.', (o) => str(o, 'eventTime'), 1),
  ],
  auditevents: [
    col('Received', 'When kube-apiserver received the request.', (o) => str(o, 'requestReceivedTimestamp')),
    col('Verb', 'The request verb.', (o) => str(o, 'verb')),
    col('Resource', 'The resource requested.', (o) => {
      const r = str(o, 'objectRef.resource');
      const sub = str(o, 'objectRef.subresource');
      return sub ? `${r}/${sub}` : r;
    }),
    col('User', 'Who made the request.', (o) => str(o, 'user.username')),
    col('Code', 'The response code.', (o) => str(o, 'responseStatus.code')),
    col('Stage', 'The stage of the request.', (o) => str(o, 'stage')),
    NAME,
    col('Namespace', 'The namespace of the object.', (o) => str(o, 'objectRef.namespace'), 1),
    col('Object', 'The name of the object.', (o) => str(o, 'objectRef.name'), 1),
    col('URI', 'The request URI.', (o) => str(o, 'requestURI'), 1),
  ],
  logs: [
    col('Time', 'When the line was written.', timeCell, 0, 'date'),
    col('Node', 'The node.', (o) => str(o, 'node')),
    col('Source', 'Journal, syslog, Kata or another node log.', (o) => str(o, 'source')),
    col('Message', 'The line, or the message of a JSON line.', (o) => messageOf(o.payload)),
    NAME,
  ],
};

export function columnDefinitions(resource: KubeResource): ColumnDefinition[] {
  return (COLUMNS[resource.name] ?? []).map((c) => c.def);
}

function rowObject(obj: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function tableRow(
  resource: KubeResource,
  obj: KubeObject,
  include: IncludeObject,
  nowMs = Date.now(),
): TableRow {
  const cells = (COLUMNS[resource.name] ?? []).map((c) => c.cell(obj, nowMs));
  const object = rowObject(obj, include);
  return object === undefined ? { cells } : { cells, object };
}

export function toTable(
  resource: KubeResource,
  objects: readonly KubeObject[],
  meta: { resourceVersion?: string; continue?: string },
  include: IncludeObject,
  withHeaders = true,
): Table {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    ...(withHeaders ? { columnDefinitions: columnDefinitions(resource) } : {}),
    rows: objects.map((o) => tableRow(resource, o, include, now)),
  };
}

/** Whether an Accept header asks for a meta.k8s.io/v1 (or v1beta1) Table first. */
export function wantsTable(accept: string | undefined): boolean {
  for (const { type, params } of parseAccept(accept)) {
    if (params.get('as') === 'Table' && params.get('g') === 'meta.k8s.io') return true;
    // The first acceptable non-table form wins.
    if ((type === 'application/json' || type === '*/*') && !params.has('as')) return false;
  }
  return false;
}
