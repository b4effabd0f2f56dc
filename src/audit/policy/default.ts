/**
 * @module The policy kjournal applies when none is given: changes only (`create`, `update`,
 * `patch`, `delete` at `Metadata`, without the RequestReceived stage, as kubernetes.io's example
 * policy omits it), everything else `None`; and the resolution of the CLI flag
 * that chooses a policy (absent: the default; `none`: no policy, every event kept; else a file).
 */
import { loadAuditPolicy, loadAuditPolicyFile } from './load.js';
import type { AuditPolicy } from './types.js';

/** The default policy as a file would write it (`kjournal audit-policy` can print it). */
export const DEFAULT_AUDIT_POLICY_YAML = `apiVersion: audit.k8s.io/v1
kind: Policy
# One event per change, at its end: the RequestReceived stage would store each change twice.
omitStages: ["RequestReceived"]
rules:
  # Changes, without their bodies.
  - level: Metadata
    verbs: ["create", "update", "patch", "delete"]
  # Nothing else.
  - level: None
`;

export const DEFAULT_AUDIT_POLICY: AuditPolicy = loadAuditPolicy(DEFAULT_AUDIT_POLICY_YAML);

/** The flag value that turns the policy off. */
export const NO_AUDIT_POLICY = 'none';

/**
 * The policy a `--audit-policy` flag chooses: `undefined` the default policy, `none` no policy
 * (null: keep every event as it is), anything else a file (rejects with `AuditPolicyError`).
 */
export async function resolveAuditPolicy(flag?: string): Promise<AuditPolicy | null> {
  if (flag === undefined) return DEFAULT_AUDIT_POLICY;
  if (flag === NO_AUDIT_POLICY) return null;
  return loadAuditPolicyFile(flag);
}
