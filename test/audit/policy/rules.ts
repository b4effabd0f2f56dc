/** @module Policy rules for the policy tests, as kube-apiserver's tests write them. */
import { emptyRule, type GroupResources, type PolicyRule } from '../../../src/audit/policy/index.js';

/** A rule at `level`, every list empty unless `fields` sets it. */
export const rule = (level: string, fields: Partial<PolicyRule> = {}): PolicyRule => ({
  ...emptyRule(level),
  ...fields,
});

/** A group's resources (and object names). */
export const gr = (group: string, resources: string[], resourceNames: string[] = []): GroupResources => ({
  group,
  resources,
  resourceNames,
});
