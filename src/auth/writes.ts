/**
 * @module What storing records needs: `create` on the resource of each record's kind (container logs
 * → containerlogs, events → events, audit events → auditevents, node logs → logs), in each namespace
 * the record names; cluster-wide for the cluster-scoped resources (auditevents, logs) and for a
 * record of a namespaced resource that names no namespace. Every intake asks this after decoding and
 * before storing anything (the Loki push, LokiStack's push paths, /ingest/audit, /ingest/events), so
 * a push is authorized by what it carries and a refused push stores nothing.
 *
 * A record names a namespace wherever a reader may find it: its namespace label and its structured
 * metadata, under every spelling (plain, Viaq, OTEL), and for an event every namespace its body names
 * (`metadata`, `regarding`, `involvedObject`, also inside an eventrouter or watch-event wrapper),
 * since the Kubernetes API shows an event in its body's namespace (src/kube/objects.ts). Asking for
 * each of them, rather than the one a reader picks, keeps a writer allowed in one namespace from
 * placing a record in another.
 *
 * Kubernetes semantics make one question usually enough: an allowed cluster-wide request (namespace
 * '') covers every namespace, as a ClusterRoleBinding or an ABAC `namespace: "*"` does; so the
 * cluster-wide question is asked first, and namespace by namespace only when it is refused.
 */
import type { LogRecord } from '../model/record.js';
import type { Access } from './access.js';
import { NAMESPACED_RESOURCES, RESOURCE_FOR_KIND } from './types.js';

const NAMESPACE_KEYS = ['namespace', 'kubernetes_namespace_name', 'k8s_namespace_name'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function addNamespaces(out: Set<string>, map: Readonly<Record<string, string>>): void {
  for (const k of NAMESPACE_KEYS) {
    const v = Object.hasOwn(map, k) ? map[k] : undefined;
    if (v !== undefined && v !== '') out.add(v);
  }
}

/** The namespaces an event's body names, in any of the shapes the events intake takes. */
function eventBodyNamespaces(out: Set<string>, body: string): void {
  if (!body.trimStart().startsWith('{')) return;
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return;
  }
  if (!isObj(doc)) return;
  for (const e of [doc, doc.event, doc.object]) {
    if (!isObj(e)) continue;
    for (const ref of [e.metadata, e.regarding, e.involvedObject]) {
      if (isObj(ref) && typeof ref.namespace === 'string' && ref.namespace !== '') out.add(ref.namespace);
    }
  }
}

/** The resource of a record's kind (`logs` for a record of no known kind). */
export function resourceOfRecord(r: Pick<LogRecord, 'labels'>): string {
  return RESOURCE_FOR_KIND[r.labels.kind ?? ''] ?? 'logs';
}

/**
 * Each resource the records need, with the namespaces they name ('' for cluster scope). Labels
 * shared by a stream's records are read once.
 */
export function writeScopes(
  records: Iterable<Pick<LogRecord, 'labels' | 'attributes' | 'body'>>,
): Map<string, Set<string>> {
  const scopes = new Map<string, Set<string>>();
  const byLabels = new Map<object, readonly string[]>();
  for (const r of records) {
    const resource = resourceOfRecord(r);
    let namespaces = scopes.get(resource);
    if (!namespaces) {
      namespaces = new Set();
      scopes.set(resource, namespaces);
    }
    if (!NAMESPACED_RESOURCES.has(resource)) {
      namespaces.add('');
      continue;
    }
    let fromLabels = byLabels.get(r.labels);
    if (!fromLabels) {
      const s = new Set<string>();
      addNamespaces(s, r.labels);
      fromLabels = [...s];
      byLabels.set(r.labels, fromLabels);
    }
    const named = new Set(fromLabels);
    addNamespaces(named, r.attributes);
    if (resource === 'events') eventBodyNamespaces(named, r.body);
    if (named.size === 0) namespaces.add('');
    for (const ns of named) namespaces.add(ns);
  }
  return scopes;
}

/**
 * Throws ForbiddenError unless `access` may create every record (the first refusal is named). The
 * cluster-wide question comes first, per resource: when it is allowed (no authorizer, an admin, the
 * agent), the records' namespaces are never looked at, which keeps the ingest path free of work per
 * record.
 */
export function requireWrite(access: Access, records: readonly LogRecord[]): Promise<void> {
  return requireOnRecords(access, 'create', records);
}

/** Throws ForbiddenError unless `access` may `verb` (create, delete) every record, as requireWrite. */
export async function requireOnRecords(
  access: Access,
  verb: string,
  records: readonly Pick<LogRecord, 'labels' | 'attributes' | 'body'>[],
): Promise<void> {
  const resources = new Set<string>();
  let lastLabels: object | undefined;
  for (const r of records) {
    if (r.labels === lastLabels) continue;
    lastLabels = r.labels;
    resources.add(resourceOfRecord(r));
  }
  if (resources.size === 0) {
    // Nothing to store needs nothing; the decision is still made, and recorded as made.
    await access.require([]);
    return;
  }
  const refused = new Set<string>();
  for (const resource of resources) {
    const cluster = { verb, resource, namespace: '' };
    // A cluster-scoped resource has no namespaces to fall back to: its one question decides.
    if (!NAMESPACED_RESOURCES.has(resource)) await access.require([cluster]);
    else if (!(await access.allowed(cluster))) refused.add(resource);
  }
  if (refused.size === 0) return;
  const scopes = writeScopes(records.filter((r) => refused.has(resourceOfRecord(r))));
  for (const [resource, namespaces] of scopes) {
    await access.require([...namespaces].map((namespace) => ({ verb, resource, namespace })));
  }
}
