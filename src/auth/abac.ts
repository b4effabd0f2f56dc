/**
 * @module ABAC authorization from kube-apiserver's `--authorization-policy-file`: one JSON policy per
 * line, `{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{...}}`,
 * blank lines and lines starting with `#` skipped, unversioned (v0) lines converted as kube-apiserver
 * converts them. Policies are evaluated exactly as kube-apiserver evaluates them: the first policy
 * that matches allows, none matching is no opinion; a policy matches when its subject matches (`user`
 * and/or `group`, `*` for any; in v1beta1 a `*` user or group means every authenticated user), its
 * verb matches (every policy allows get, list and watch; a `readonly` policy allows nothing else), and
 * either its resource part (`namespace`, `resource`, `apiGroup`, each `*` or exact; an empty field
 * matches only an empty attribute, so a namespaced policy never grants a cluster-wide request) or its
 * `nonResourcePath` (`*`, exact, or a prefix ending in `*`) matches. A `*` resource or API group
 * means every one, audit events and tenants included, as in Kubernetes.
 */
import { AuthConfigError, readConfigFile } from './errors.js';
import { ALL_AUTHENTICATED, type Attributes, type Decision, type UserInfo } from './types.js';

export const ABAC_API_VERSION = 'abac.authorization.kubernetes.io/v1beta1';
const V0_API_VERSION = 'abac.authorization.kubernetes.io/v0';

/** A policy's spec after conversion to kube-apiserver's internal form. */
export interface PolicySpec {
  readonly user: string;
  readonly group: string;
  readonly readonly: boolean;
  readonly apiGroup: string;
  readonly resource: string;
  readonly namespace: string;
  readonly nonResourcePath: string;
}

export interface Policy {
  readonly spec: PolicySpec;
  /** Where the policy came from, `file:line`. */
  readonly source: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function stringField(o: Obj, key: string): string {
  const v = o[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Error(`${key} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function boolField(o: Obj, key: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new Error(`${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function v1beta1(spec: Obj): PolicySpec {
  const out = {
    user: stringField(spec, 'user'),
    group: stringField(spec, 'group'),
    readonly: boolField(spec, 'readonly'),
    apiGroup: stringField(spec, 'apiGroup'),
    resource: stringField(spec, 'resource'),
    namespace: stringField(spec, 'namespace'),
    nonResourcePath: stringField(spec, 'nonResourcePath'),
  };
  // In v1beta1, a * user or group maps to all authenticated subjects.
  if (out.user === '*' || out.group === '*') return { ...out, user: '', group: ALL_AUTHENTICATED };
  return out;
}

function v0(o: Obj): PolicySpec {
  const user = stringField(o, 'user');
  const group = stringField(o, 'group');
  const namespace = stringField(o, 'namespace');
  const resource = stringField(o, 'resource');
  const out = {
    user,
    group,
    readonly: boolField(o, 'readonly'),
    // Every v0 rule matches every API group; empty namespace or resource means all of them, and with
    // both empty every non-resource path too; no subject, or a * one, means all authenticated users.
    apiGroup: '*',
    namespace: namespace === '' ? '*' : namespace,
    resource: resource === '' ? '*' : resource,
    nonResourcePath: namespace === '' && resource === '' ? '*' : '',
  };
  if (user === '*' || group === '*') return { ...out, user: '', group: ALL_AUTHENTICATED };
  if (user === '' && group === '') return { ...out, group: ALL_AUTHENTICATED };
  return out;
}

/** Parses one non-blank, non-comment line. */
export function parsePolicyLine(line: string): PolicySpec {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
  if (!isObj(doc)) throw new Error('not a JSON object');
  const apiVersion = doc.apiVersion;
  const kind = doc.kind;
  if (apiVersion === undefined && kind === undefined) return v0(doc);
  if (apiVersion === V0_API_VERSION && (kind === 'Policy' || kind === undefined)) return v0(doc);
  if (apiVersion !== ABAC_API_VERSION) {
    throw new Error(`apiVersion must be ${ABAC_API_VERSION}, got ${JSON.stringify(apiVersion ?? '')}`);
  }
  if (kind !== 'Policy') throw new Error(`kind must be Policy, got ${JSON.stringify(kind ?? '')}`);
  const spec = doc.spec;
  if (spec === undefined || spec === null) return v1beta1({});
  if (!isObj(spec)) throw new Error('spec must be an object');
  return v1beta1(spec);
}

/** Parses a policy file's text; `file` is for messages. */
export function parsePolicies(text: string, file: string): Policy[] {
  const policies: Policy[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    try {
      policies.push({ spec: parsePolicyLine(lines[i]!), source: `${file}:${i + 1}` });
    } catch (err) {
      throw new AuthConfigError(`policy file ${file}:${i + 1}: ${(err as Error).message}`);
    }
  }
  return policies;
}

/** Reads `--authorization-policy-file`. */
export function loadPolicyFile(file: string): Policy[] {
  const text = readConfigFile(file, '--authorization-policy-file').toString('utf8');
  return parsePolicies(text, file);
}

function subjectMatches(p: PolicySpec, user: UserInfo): boolean {
  let matched = false;
  if (p.user !== '') {
    if (p.user === '*') matched = true;
    else if (p.user === user.name) matched = true;
    else return false;
  }
  if (p.group !== '') {
    if (p.group === '*') matched = true;
    else if (user.groups.includes(p.group)) matched = true;
    else return false;
  }
  return matched;
}

const READ_ONLY = new Set(['get', 'list', 'watch']);

function verbMatches(p: PolicySpec, a: Attributes): boolean {
  return READ_ONLY.has(a.verb) || !p.readonly;
}

function resourceMatches(p: PolicySpec, a: Attributes): boolean {
  if (!a.resourceRequest) return false;
  if (p.namespace !== '*' && p.namespace !== (a.namespace ?? '')) return false;
  if (p.resource !== '*' && p.resource !== a.resource) return false;
  return p.apiGroup === '*' || p.apiGroup === a.apiGroup;
}

function nonResourceMatches(p: PolicySpec, a: Attributes): boolean {
  if (a.resourceRequest || p.nonResourcePath === '') return false;
  if (p.nonResourcePath === '*' || p.nonResourcePath === a.path) return true;
  return p.nonResourcePath.endsWith('*') && a.path.startsWith(p.nonResourcePath.replace(/\*+$/, ''));
}

/** Whether one policy matches the request. */
export function policyMatches(p: PolicySpec, a: Attributes): boolean {
  return (
    subjectMatches(p, a.user) && verbMatches(p, a) && (resourceMatches(p, a) || nonResourceMatches(p, a))
  );
}

/** The ABAC authorizer: allow when a policy matches, else no opinion (never deny). */
export function abacAuthorize(policies: readonly Policy[], a: Attributes): Decision {
  return policies.some((p) => policyMatches(p.spec, a)) ? 'allow' : 'no-opinion';
}
