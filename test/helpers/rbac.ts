/**
 * @module RBAC as kube-apiserver decides it, for stand-ins of kube-apiserver in tests (a recorded
 * protocol peer: the real kube-apiserver cannot run here): rules bound to users and groups, `*`
 * matching every verb, group and resource, a binding's namespace (a RoleBinding) or none (a
 * ClusterRoleBinding), `resourceNames` one object, `resource/subresource` as RBAC writes it.
 */
import type { SarSpec } from '../../src/auth/sar.js';

export interface Rule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  /** Bound in this namespace only (a RoleBinding); cluster-wide without it. */
  namespace?: string;
}

/** Rules by subject: `user:<name>` or `group:<name>`. */
export type RbacTable = Readonly<Record<string, readonly Rule[]>>;

const matches = (list: readonly string[] | undefined, v: string) =>
  list !== undefined && (list.includes('*') || list.includes(v));

function pathMatches(patterns: readonly string[], path: string): boolean {
  return patterns.some(
    (p) => p === '*' || p === path || (p.endsWith('*') && path.startsWith(p.slice(0, -1))),
  );
}

/** RBAC's decision for a review (rbac/authorizer: any rule of any binding allows). */
export function rbacDecide(table: RbacTable, spec: SarSpec): boolean {
  const subjects = [`user:${spec.user}`, ...(spec.groups ?? []).map((g) => `group:${g}`)];
  const rules = subjects.flatMap((s) => table[s] ?? []);
  const ra = spec.resourceAttributes;
  const nra = spec.nonResourceAttributes;
  return rules.some((r) => {
    if (nra)
      return (
        r.nonResourceURLs !== undefined &&
        matches(r.verbs, nra.verb) &&
        pathMatches(r.nonResourceURLs, nra.path)
      );
    if (!ra || r.resources === undefined) return false;
    if (r.namespace !== undefined && r.namespace !== (ra.namespace ?? '')) return false;
    if (r.resourceNames !== undefined && !r.resourceNames.includes(ra.name ?? '')) return false;
    const resource = ra.subresource ? `${ra.resource ?? ''}/${ra.subresource}` : (ra.resource ?? '');
    return (
      matches(r.verbs, ra.verb ?? '') &&
      matches(r.apiGroups, ra.group ?? '') &&
      matches(r.resources, resource)
    );
  });
}
