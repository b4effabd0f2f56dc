/**
 * @module Evaluating a policy for one request, as kube-apiserver's policy rule evaluator does
 * (audit/policy/checker.go): the first rule that matches decides the level; its omitted stages
 * are the union of the policy's and its own; `omitManagedFields` is the rule's when it sets it,
 * else the policy's. No rule matching means `None` with the policy's stages.
 *
 * The request is described by the authorizer attributes kube-apiserver matched on, which an audit
 * event carries: `user`, `verb`, `objectRef` (present exactly for resource requests) and, for
 * non-resource requests, the path of `requestURI`.
 */

import { isObj, type Obj } from '../../formats/json-util.js';
import {
  type AuditPolicy,
  isLevel,
  isStage,
  type PolicyDecision,
  type PolicyRule,
  type Stage,
} from './types.js';

/** The authorizer attributes a rule matches on. */
export interface RequestAttributes {
  /** Absent for a request that was not authenticated. */
  readonly user?: { readonly name: string; readonly groups: readonly string[] };
  readonly verb: string;
  readonly resourceRequest: boolean;
  readonly namespace: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  /** The URL path, without the query. */
  readonly path: string;
}

const s = (o: Obj | undefined, key: string): string =>
  typeof o?.[key] === 'string' ? (o[key] as string) : '';

/** The path of a request URI: the query dropped, percent-escapes decoded (Go's `URL.Path`). */
function uriPath(uri: string): string {
  const q = uri.search(/[?#]/);
  const raw = q < 0 ? uri : uri.slice(0, q);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The attributes of an audit.k8s.io/v1 Event (its JSON object). */
export function attributesFromEvent(event: Obj): RequestAttributes {
  const user = isObj(event.user) ? event.user : undefined;
  const ref = isObj(event.objectRef) ? event.objectRef : undefined;
  const groups = Array.isArray(user?.groups)
    ? user.groups.filter((g): g is string => typeof g === 'string')
    : [];
  return {
    ...(user === undefined ? {} : { user: { name: s(user, 'username'), groups } }),
    verb: s(event, 'verb'),
    resourceRequest: ref !== undefined,
    namespace: s(ref, 'namespace'),
    apiGroup: s(ref, 'apiGroup'),
    resource: s(ref, 'resource'),
    subresource: s(ref, 'subresource'),
    name: s(ref, 'name'),
    path: uriPath(s(event, 'requestURI')),
  };
}

function unionStages(...lists: (readonly string[])[]): Stage[] {
  const out = new Set<Stage>();
  for (const list of lists) for (const st of list) if (isStage(st)) out.add(st);
  return [...out];
}

/** The decision for one request. */
export function evaluatePolicy(policy: AuditPolicy, attrs: RequestAttributes): PolicyDecision {
  for (const [i, rule] of policy.rules.entries()) {
    if (ruleMatches(rule, attrs)) {
      return {
        rule: i,
        level: isLevel(rule.level) ? rule.level : 'None',
        omitStages: unionStages(policy.omitStages, rule.omitStages),
        omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields,
      };
    }
  }
  return {
    rule: -1,
    level: 'None',
    omitStages: unionStages(policy.omitStages),
    omitManagedFields: policy.omitManagedFields,
  };
}

/** The decision for the request an audit event records. */
export function evaluateEvent(policy: AuditPolicy, event: Obj): PolicyDecision {
  return evaluatePolicy(policy, attributesFromEvent(event));
}

export function ruleMatches(r: PolicyRule, attrs: RequestAttributes): boolean {
  const user = attrs.user;
  if (r.users.length > 0 && (user === undefined || !r.users.includes(user.name))) return false;
  if (r.userGroups.length > 0) {
    if (user === undefined || !user.groups.some((g) => r.userGroups.includes(g))) return false;
  }
  if (r.verbs.length > 0 && !r.verbs.includes(attrs.verb)) return false;
  if (r.namespaces.length > 0 || r.resources.length > 0) return ruleMatchesResource(r, attrs);
  if (r.nonResourceURLs.length > 0) return ruleMatchesNonResource(r, attrs);
  return true;
}

function ruleMatchesNonResource(r: PolicyRule, attrs: RequestAttributes): boolean {
  if (attrs.resourceRequest) return false;
  return r.nonResourceURLs.some((spec) => pathMatches(attrs.path, spec));
}

/** `*`, an exact path, or a prefix before trailing `*`s. */
export function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  return spec.endsWith('*') && path.startsWith(spec.replace(/\*+$/, ''));
}

function ruleMatchesResource(r: PolicyRule, attrs: RequestAttributes): boolean {
  if (!attrs.resourceRequest) return false;
  // Cluster-scoped resources have the namespace "".
  if (r.namespaces.length > 0 && !r.namespaces.includes(attrs.namespace)) return false;
  if (r.resources.length === 0) return true;
  const { apiGroup, resource, subresource, name } = attrs;
  const combined = subresource === '' ? resource : `${resource}/${subresource}`;
  for (const gr of r.resources) {
    if (gr.group !== apiGroup) continue;
    if (gr.resources.length === 0) return true;
    if (gr.resourceNames.length > 0 && !gr.resourceNames.includes(name)) continue;
    for (const res of gr.resources) {
      if (res === combined || res === '*') return true;
      if (subresource !== '' && res.startsWith('*/') && subresource === res.slice(2)) return true;
      if (res.endsWith('/*') && resource === res.slice(0, -2)) return true;
    }
  }
  return false;
}
