/**
 * @module The `auditPolicy` pipeline filter: audit events (`kind=auditevent`) as an audit policy
 * would have recorded them (src/audit/policy/apply.ts); other records pass unchanged.
 *
 * ```yaml
 * filters:
 *   - auditPolicy: { file: audit-policy.yaml }        # relative to the configuration's directory
 *   - auditPolicy:
 *       policy:                                        # inline; apiVersion and kind may be left out
 *         omitStages: [RequestReceived]
 *         rules: [{ level: Metadata, verbs: [create, update, patch, delete] }]
 * ```
 *
 * Exactly one of `file` and `policy`. An inline policy's error names its field
 * (`...auditPolicy.policy.rules[0].level: Required value`); a file's error is upstream's text
 * with the file name. An event whose body is not a JSON object is kept with `__error__`.
 */
import { resolve } from 'node:path';
import { applyPolicyToRecord, NotAnEventError } from '../../audit/policy/apply.js';
import { AuditPolicyError, errorBody, errorText } from '../../audit/policy/errors.js';
import { loadAuditPolicyFileSync, policyFromObject } from '../../audit/policy/load.js';
import type { AuditPolicy } from '../../audit/policy/types.js';
import { ConfigError, describe, type Options } from '../../config/options.js';
import type { Filter, FilterFactory } from '../filter.js';
import { withError } from './fields.js';

/** The `__error__` value of an audit event the filter could not read. */
export const AUDIT_POLICY_ERROR = 'AuditPolicyErr';

function inlinePolicy(options: Options): AuditPolicy {
  const value = options.raw('policy');
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw options.error('policy', `must be a mapping, got ${describe(value)}`);
  try {
    return policyFromObject(value, { requireTypeMeta: false });
  } catch (err) {
    if (!(err instanceof AuditPolicyError)) throw err;
    const [first, ...more] = err.errors;
    if (first === undefined) throw options.error('policy', err.message);
    const rest = more.length > 0 ? ` (and: ${more.map(errorText).join(', ')})` : '';
    const body = first.type === 'Decode' ? `failed decoding: ${errorBody(first)}` : errorBody(first);
    throw new ConfigError([...options.at('policy'), ...first.path], `${body}${rest}`);
  }
}

function filePolicy(options: Options, baseDir: string): AuditPolicy {
  const file = options.string('file');
  try {
    return loadAuditPolicyFileSync(file === '' ? '' : resolve(baseDir, file));
  } catch (err) {
    if (err instanceof AuditPolicyError) throw options.error('file', err.message);
    throw err;
  }
}

function policyFilter(policy: AuditPolicy): Filter {
  return {
    type: 'auditPolicy',
    apply(record) {
      if (record.labels.kind !== 'auditevent') return record;
      try {
        return applyPolicyToRecord(policy, record);
      } catch (err) {
        if (err instanceof NotAnEventError) return withError(record, AUDIT_POLICY_ERROR, err.message);
        throw err;
      }
    },
  };
}

export const auditPolicyFilter: FilterFactory = (options, ctx) => {
  const hasFile = options.has('file');
  const hasPolicy = options.has('policy');
  if (hasFile && hasPolicy) throw options.error('policy', 'file and policy are exclusive: give one');
  if (!hasFile && !hasPolicy) throw new ConfigError(options.path, 'one of file and policy is required');
  const policy = hasFile ? filePolicy(options, ctx.baseDir) : inlinePolicy(options);
  options.done();
  return policyFilter(policy);
};
