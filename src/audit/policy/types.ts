/**
 * @module The audit policy's types: an `audit.k8s.io/v1` `Policy` as kube-apiserver reads it
 * (`--audit-policy-file`), its rules, levels and stages, and the decision evaluating it yields.
 * Lists a policy leaves out are empty lists; a rule's `omitManagedFields` is `undefined` when the
 * rule does not set it (it then inherits the policy's).
 */

export const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
/** How much of an event is kept, in increasing order. */
export type Level = (typeof LEVELS)[number];

export const STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type Stage = (typeof STAGES)[number];

export const API_VERSION = 'audit.k8s.io/v1';
export const KIND = 'Policy';

/** A set of resources of one API group (`""` is the core group). */
export interface GroupResources {
  readonly group: string;
  /**
   * `pods`, `pods/log` (a subresource), `*` (any), `pods/*` (pods and any of its subresources),
   * `*` + `/scale` (that subresource of any resource); empty: every resource of the group.
   */
  readonly resources: readonly string[];
  /** Object names; empty: any. */
  readonly resourceNames: readonly string[];
}

export interface PolicyRule {
  /** Validation guarantees one of LEVELS on a loaded policy. */
  readonly level: string;
  readonly users: readonly string[];
  readonly userGroups: readonly string[];
  readonly verbs: readonly string[];
  readonly resources: readonly GroupResources[];
  /** `""` selects cluster-scoped resources. */
  readonly namespaces: readonly string[];
  /** `/healthz`, `/api*` (a trailing `*` is a prefix match), `*`. */
  readonly nonResourceURLs: readonly string[];
  readonly omitStages: readonly string[];
  readonly omitManagedFields?: boolean;
}

export interface AuditPolicy {
  readonly rules: readonly PolicyRule[];
  readonly omitStages: readonly string[];
  readonly omitManagedFields: boolean;
}

/** What the policy decides for one request (kube-apiserver's RequestAuditConfig, plus the rule). */
export interface PolicyDecision {
  /** Index of the first rule that matched; -1 when none did. */
  readonly rule: number;
  readonly level: Level;
  /** The union of the policy's and the rule's omitted stages (the policy's alone when no rule). */
  readonly omitStages: readonly Stage[];
  readonly omitManagedFields: boolean;
}

export function isLevel(v: string): v is Level {
  return (LEVELS as readonly string[]).includes(v);
}

export function isStage(v: string): v is Stage {
  return (STAGES as readonly string[]).includes(v);
}

/** kube-apiserver's `Level.Less`: None < Metadata < Request < RequestResponse. */
export function levelLess(a: Level, b: Level): boolean {
  return LEVELS.indexOf(a) < LEVELS.indexOf(b);
}

/** A rule with every list empty: what a YAML rule leaves out. */
export function emptyRule(level: string): PolicyRule {
  return {
    level,
    users: [],
    userGroups: [],
    verbs: [],
    resources: [],
    namespaces: [],
    nonResourceURLs: [],
    omitStages: [],
  };
}
