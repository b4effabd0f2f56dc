/**
 * @module Loading an audit policy as kube-apiserver's `--audit-policy-file` does
 * (audit/policy/reader.go): decode, validate, and refuse a policy without rules. Errors read as
 * upstream's: `rules[2].level: Required value: from file /etc/kjournal/policy.yaml`.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type DecodeOptions, decodePolicy, parsePolicyText } from './decode.js';
import { AuditPolicyError, aggregateText } from './errors.js';
import type { AuditPolicy } from './types.js';
import { validatePolicy } from './validate.js';

/** A decoded mapping, validated; throws `AuditPolicyError`. */
export function policyFromObject(value: unknown, opts: DecodeOptions = {}): AuditPolicy {
  const policy = decodePolicy(value, opts);
  const errs = validatePolicy(policy);
  if (errs.length > 0) throw new AuditPolicyError(aggregateText(errs), errs);
  if (policy.rules.length === 0) throw new AuditPolicyError('loaded illegal policy with 0 rules');
  return policy;
}

/** The policy of a YAML or JSON text (LoadPolicyFromBytes); throws `AuditPolicyError`. */
export function loadAuditPolicy(text: string): AuditPolicy {
  return policyFromObject(parsePolicyText(text));
}

function fromFile(file: string, text: string): AuditPolicy {
  try {
    return loadAuditPolicy(text);
  } catch (err) {
    if (!(err instanceof AuditPolicyError)) throw err;
    throw new AuditPolicyError(`${err.message}: from file ${file}`, err.errors, file);
  }
}

function readError(file: string, err: unknown): AuditPolicyError {
  return new AuditPolicyError(
    `failed to read file path ${JSON.stringify(file)}: ${(err as Error).message}`,
    [],
    file,
  );
}

/** The policy of a file (LoadPolicyFromFile); throws `AuditPolicyError` naming the file. */
export async function loadAuditPolicyFile(file: string): Promise<AuditPolicy> {
  if (file === '') throw new AuditPolicyError('file path not specified');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw readError(file, err);
  }
  return fromFile(file, text);
}

/** `loadAuditPolicyFile`, synchronous (filter factories are). */
export function loadAuditPolicyFileSync(file: string): AuditPolicy {
  if (file === '') throw new AuditPolicyError('file path not specified');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw readError(file, err);
  }
  return fromFile(file, text);
}
