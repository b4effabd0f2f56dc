/**
 * @module The audit policy with kube-apiserver's semantics: load and validate an
 * `audit.k8s.io/v1` `Policy`, evaluate it for an audit event, apply it to events and records,
 * the default policy and the CLI flag's resolution, and the report of what a policy would keep.
 */
export * from './apply.js';
export * from './checker.js';
export { decodePolicy, parsePolicyText } from './decode.js';
export * from './default.js';
export { AuditPolicyError, aggregateText, errorText, type FieldError } from './errors.js';
export * from './load.js';
export * from './report.js';
export * from './types.js';
export { validatePolicy } from './validate.js';
