/**
 * @module Decoding an `audit.k8s.io/v1` `Policy` from its YAML or JSON text or from a mapping
 * already parsed, as kube-apiserver's decoder does: `kind` and `apiVersion` are required (a
 * mapping given inline in a pipeline configuration may leave them out), fields it does not know
 * are ignored, `null` is an empty value, and a value of the wrong type stops decoding with
 * `failed decoding: rules[0].verbs: ...`. YAML is read with YAML 1.1's scalars, as Kubernetes's
 * YAML reader does (`yes` is a boolean).
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { type ConfigPath, describe, pathText } from '../../config/options.js';
import { isObj, type Obj } from '../../import/formats/json-util.js';
import { AuditPolicyError, type FieldError } from './errors.js';
import { API_VERSION, type AuditPolicy, type GroupResources, KIND, type PolicyRule } from './types.js';

class DecodeError extends Error {
  constructor(readonly field: FieldError) {
    super(field.detail);
  }
}

function fail(path: ConfigPath, detail: string): never {
  throw new DecodeError({ path, type: 'Decode', detail });
}

function str(v: unknown, path: ConfigPath): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(path, `expected a string, got ${describe(v)}`);
  return v;
}

function strings(v: unknown, path: ConfigPath): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, `expected a list of strings, got ${describe(v)}`);
  return v.map((item, i) => str(item, [...path, i]));
}

function bool(v: unknown, path: ConfigPath): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail(path, `expected true or false, got ${describe(v)}`);
  return v;
}

function mapping(v: unknown, path: ConfigPath): Obj {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) fail(path, `expected a mapping, got ${describe(v)}`);
  return v;
}

function list(v: unknown, path: ConfigPath): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, `expected a list, got ${describe(v)}`);
  return v;
}

function groupResources(v: unknown, path: ConfigPath): GroupResources {
  const o = mapping(v, path);
  return {
    group: str(o.group, [...path, 'group']),
    resources: strings(o.resources, [...path, 'resources']),
    resourceNames: strings(o.resourceNames, [...path, 'resourceNames']),
  };
}

function rule(v: unknown, path: ConfigPath): PolicyRule {
  const o = mapping(v, path);
  const omitManagedFields = bool(o.omitManagedFields, [...path, 'omitManagedFields']);
  return {
    level: str(o.level, [...path, 'level']),
    users: strings(o.users, [...path, 'users']),
    userGroups: strings(o.userGroups, [...path, 'userGroups']),
    verbs: strings(o.verbs, [...path, 'verbs']),
    resources: list(o.resources, [...path, 'resources']).map((r, i) =>
      groupResources(r, [...path, 'resources', i]),
    ),
    namespaces: strings(o.namespaces, [...path, 'namespaces']),
    nonResourceURLs: strings(o.nonResourceURLs, [...path, 'nonResourceURLs']),
    omitStages: strings(o.omitStages, [...path, 'omitStages']),
    ...(omitManagedFields === undefined ? {} : { omitManagedFields }),
  };
}

function typeMeta(o: Obj, required: boolean): void {
  const kind = o.kind ?? (required ? undefined : KIND);
  const apiVersion = o.apiVersion ?? (required ? undefined : API_VERSION);
  if (kind === undefined || kind === '') fail(['kind'], "Object 'Kind' is missing");
  if (apiVersion === undefined || apiVersion === '') fail(['apiVersion'], "Object 'apiVersion' is missing");
  if (typeof apiVersion !== 'string') fail(['apiVersion'], `expected a string, got ${describe(apiVersion)}`);
  if (typeof kind !== 'string') fail(['kind'], `expected a string, got ${describe(kind)}`);
  if (apiVersion !== API_VERSION || kind !== KIND) {
    const at: ConfigPath = apiVersion !== API_VERSION ? ['apiVersion'] : ['kind'];
    fail(at, `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)}`);
  }
}

export interface DecodeOptions {
  /** `apiVersion: audit.k8s.io/v1` and `kind: Policy` must be written (default true). */
  readonly requireTypeMeta?: boolean;
}

/**
 * The policy of a parsed mapping, not yet validated. Throws `AuditPolicyError` whose one field
 * error says where decoding stopped.
 */
export function decodePolicy(value: unknown, opts: DecodeOptions = {}): AuditPolicy {
  try {
    if (!isObj(value)) fail([], `expected a mapping, got ${describe(value)}`);
    const o = value;
    typeMeta(o, opts.requireTypeMeta ?? true);
    mapping(o.metadata, ['metadata']);
    return {
      omitStages: strings(o.omitStages, ['omitStages']),
      omitManagedFields: bool(o.omitManagedFields, ['omitManagedFields']) ?? false,
      rules: list(o.rules, ['rules']).map((r, i) => rule(r, ['rules', i])),
    };
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    const where = err.field.path.length > 0 ? `${pathText(err.field.path)}: ` : '';
    throw new AuditPolicyError(`failed decoding: ${where}${err.field.detail}`, [err.field]);
  }
}

/**
 * The mapping of a policy's YAML or JSON text (its first document, as Kubernetes's YAML reader
 * takes); throws `AuditPolicyError` on a syntax error.
 */
export function parsePolicyText(text: string): unknown {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { version: '1.1', prettyErrors: false, lineCounter });
  const doc = docs[0];
  if (doc === undefined) return null;
  const err = doc.errors[0];
  if (err !== undefined) {
    const pos = lineCounter.linePos(err.pos[0]);
    const where = `line ${pos.line}, column ${pos.col}: `;
    throw new AuditPolicyError(`failed decoding: ${where}${err.message}`);
  }
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}
