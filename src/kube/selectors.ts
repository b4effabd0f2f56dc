/**
 * @module Label and field selectors with Kubernetes' syntax and semantics, evaluated exactly in
 * TypeScript, plus what of them the store can take: stream matchers, content hints (necessary
 * conditions) and time bounds. An unsupported selector is an error naming it, never ignored.
 */

import { parseDuration } from '../go/duration.js';
import { podLabelNames, streamPodLabel } from '../model/kube-meta.js';
import { safeName } from '../model/names.js';
import type { Labels } from '../model/record.js';
import { nowNs, parseRfc3339Nano } from '../model/time.js';
import type { ContentHint, LabelMatcher } from '../store/store.js';
import { fieldValue, type KubeObject, parseObjectName } from './objects.js';
import type { KubeResource } from './resources.js';
import { kubeBadRequest } from './status.js';

// ---------------------------------------------------------------------------------------------
// Label selectors

export type LabelOp = '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOp;
  readonly values: readonly string[];
}

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, whole: string): void {
  if (!LABEL_KEY.test(key)) {
    throw kubeBadRequest(
      `unable to parse requirement: invalid label key "${key}" in label selector "${whole}"`,
    );
  }
}

function checkValue(value: string, whole: string): void {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw kubeBadRequest(
      `unable to parse requirement: invalid label value "${value}" in label selector "${whole}"`,
    );
  }
}

/** Splits on commas that are not inside parentheses. */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Parses a label selector (`app=x,tier!=db,env in (a,b),!legacy,release`). */
export function parseLabelSelector(text: string): LabelRequirement[] {
  const reqs: LabelRequirement[] = [];
  if (text.trim() === '') return reqs;
  for (const rawPart of splitTop(text)) {
    const part = rawPart.trim();
    if (part === '') throw kubeBadRequest(`found '', expected: identifier in label selector "${text}"`);
    let m = /^!\s*([^\s=!<>(),]+)$/.exec(part);
    if (m) {
      checkKey(m[1]!, text);
      reqs.push({ key: m[1]!, op: '!', values: [] });
      continue;
    }
    m = /^([^\s=!<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
    if (m) {
      checkKey(m[1]!, text);
      const values = m[3]!.split(',').map((v) => v.trim());
      for (const v of values) checkValue(v, text);
      reqs.push({ key: m[1]!, op: m[2] as 'in' | 'notin', values });
      continue;
    }
    m = /^([^\s=!<>(),]+)\s*(==|=|!=|>|<)\s*([^\s=!<>(),]*)$/.exec(part);
    if (m) {
      checkKey(m[1]!, text);
      const op = m[2]!;
      const value = m[3]!;
      if (op === '>' || op === '<') {
        if (!/^-?\d+$/.test(value)) {
          throw kubeBadRequest(
            `unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer in label selector "${text}"`,
          );
        }
        reqs.push({ key: m[1]!, op: op === '>' ? 'gt' : 'lt', values: [value] });
        continue;
      }
      checkValue(value, text);
      reqs.push({ key: m[1]!, op: op === '!=' ? '!=' : '=', values: [value] });
      continue;
    }
    m = /^([^\s=!<>(),]+)$/.exec(part);
    if (m) {
      checkKey(m[1]!, text);
      reqs.push({ key: m[1]!, op: 'exists', values: [] });
      continue;
    }
    throw kubeBadRequest(`unable to parse requirement: "${part}" in label selector "${text}"`);
  }
  return reqs;
}

/** The label's value, found under its own key or under the safe name it is stored as. */
function labelOf(labels: Readonly<Record<string, string>>, key: string): string | undefined {
  if (Object.hasOwn(labels, key)) return labels[key];
  const safe = safeName(key);
  return Object.hasOwn(labels, safe) ? labels[safe] : undefined;
}

export function matchesLabels(
  reqs: readonly LabelRequirement[],
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const r of reqs) {
    const v = labelOf(labels, r.key);
    switch (r.op) {
      case '=':
        if (v !== r.values[0]) return false;
        break;
      case '!=':
        if (v === r.values[0]) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case 'exists':
        if (v === undefined) return false;
        break;
      case '!':
        if (v !== undefined) return false;
        break;
      case 'gt':
      case 'lt': {
        if (v === undefined || !/^-?\d+$/.test(v)) return false;
        const n = BigInt(v);
        const bound = BigInt(r.values[0]!);
        if (r.op === 'gt' ? !(n > bound) : !(n < bound)) return false;
        break;
      }
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Field selectors

export type FieldOp = '=' | '!=' | '>=' | '<=' | '>' | '<';

export interface FieldRequirement {
  readonly field: string;
  readonly op: FieldOp;
  readonly value: string;
}

/** Splits on unescaped commas and unescapes `\,` `\=` `\!` `\\` afterwards, as Kubernetes does. */
function splitEscaped(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + text[i + 1];
      i++;
    } else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unescapeField(text: string, whole: string): string {
  return text.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === ',' || c === '=' || c === '!' || c === '\\' || c === '<' || c === '>') return c;
    throw kubeBadRequest(`invalid field selector "${whole}": invalid escape sequence`);
  });
}

/** Parses a field selector (`pod=x,stream!=stderr,metadata.creationTimestamp>=-2h`). */
export function parseFieldSelector(text: string): FieldRequirement[] {
  const reqs: FieldRequirement[] = [];
  if (text.trim() === '') return reqs;
  for (const part of splitEscaped(text)) {
    // The first unescaped operator splits field and value.
    const m = /^((?:[^\\=!<>]|\\.)+)(==|=|!=|>=|<=|>|<)(.*)$/s.exec(part.trim());
    if (!m)
      throw kubeBadRequest(`invalid field selector: "${part}": expected a field, an operator and a value`);
    const op = m[2] === '==' ? '=' : (m[2] as FieldOp);
    reqs.push({ field: unescapeField(m[1]!.trim(), text), op, value: unescapeField(m[3]!, text) });
  }
  return reqs;
}

const TIME_FIELD = 'metadata.creationTimestamp';

/** The fields each resource can be selected on, besides metadata.name/namespace and the time. */
const FIELDS: Record<string, readonly string[]> = {
  containerlogs: ['pod', 'container', 'node', 'stream'],
  logs: ['node', 'source'],
  events: [
    'regarding.kind',
    'regarding.name',
    'regarding.namespace',
    'regarding.uid',
    'regarding.apiVersion',
    'reason',
    'type',
    'reportingController',
    'reportingInstance',
    'action',
    'note',
  ],
  auditevents: [
    'auditID',
    'verb',
    'stage',
    'level',
    'requestURI',
    'user.username',
    'user.uid',
    'objectRef.resource',
    'objectRef.subresource',
    'objectRef.namespace',
    'objectRef.name',
    'objectRef.apiGroup',
    'objectRef.apiVersion',
    'responseStatus.code',
    'responseStatus.reason',
  ],
};

/** Fields whose values come from stream labels (pushed down as label-or-absent matchers). */
const LABEL_FIELDS: Record<string, string> = {
  pod: 'pod',
  container: 'container',
  node: 'node',
  'metadata.namespace': 'namespace',
};

function supportsPayload(resource: KubeResource): boolean {
  return resource.name === 'containerlogs' || resource.name === 'logs';
}

export function supportedFields(resource: KubeResource): string[] {
  const out = ['metadata.name', TIME_FIELD, ...(FIELDS[resource.name] ?? [])];
  if (resource.namespaced) out.splice(1, 0, 'metadata.namespace');
  if (supportsPayload(resource)) out.push('payload.<path>');
  return out;
}

function checkField(resource: KubeResource, r: FieldRequirement): void {
  const ok =
    r.field === 'metadata.name' ||
    r.field === TIME_FIELD ||
    (r.field === 'metadata.namespace' && resource.namespaced) ||
    (FIELDS[resource.name] ?? []).includes(r.field) ||
    (supportsPayload(resource) && /^payload\.[^.]+(\.[^.]+)*$/.test(r.field));
  if (!ok) {
    throw kubeBadRequest(
      `field label not supported: "${r.field}": ${resource.name} can be selected on ${supportedFields(resource).join(', ')}`,
    );
  }
  if (r.field === TIME_FIELD) {
    if (r.op === '=' || r.op === '!=') {
      throw kubeBadRequest(
        `field selector "${TIME_FIELD}${r.op}${r.value}" is not supported: use >=, <=, > or <`,
      );
    }
  } else if (r.op !== '=' && r.op !== '!=') {
    throw kubeBadRequest(
      `field selector operator "${r.op}" is not supported for "${r.field}": use =, == or !=`,
    );
  }
}

/** An RFC 3339 time or a duration relative to now (`-2h`, `2h` ago is the same). */
export function parseTimeBound(value: string, now: bigint): bigint {
  const abs = parseRfc3339Nano(value);
  if (abs !== undefined) return abs;
  const rel = value.startsWith('-') || value.startsWith('+') ? value.slice(1) : value;
  const d = parseDuration(rel);
  if (d !== undefined && d >= 0n && rel !== '') return value.startsWith('+') ? now + d : now - d;
  if (value === 'now') return now;
  throw kubeBadRequest(
    `invalid time in field selector "${TIME_FIELD}": "${value}": want RFC 3339 (2026-01-02T15:04:05Z) or a duration ago (-2h)`,
  );
}

// ---------------------------------------------------------------------------------------------
// The compiled selection

export interface CompiledSelection {
  /** Stream matchers for the store (the kind and label fields). */
  readonly matchers: LabelMatcher[];
  /** Necessary conditions for the store. */
  readonly hints: ContentHint[];
  /** A necessary condition on a stream's labels (the label selector), for the store. */
  readonly streamFilter?: (labels: Labels) => boolean;
  /** Time bounds: [start, end). */
  readonly start: bigint;
  readonly end: bigint;
  /** Whether the caller gave a lower time bound (else the default window applies). */
  readonly explicitStart: boolean;
  /** Whether the caller gave an upper time bound. */
  readonly explicitEnd: boolean;
  /**
   * Whether the store's count over `matchers` and the time range is the list's size: nothing but
   * the time and stream labels selects (a stream that lacks such a label but whose lines carry it
   * in structured metadata is counted whole: kjournal's and Loki's collectors label streams).
   */
  readonly countable: boolean;
  /** The exact test on the object. */
  matches(obj: KubeObject): boolean;
}

/** A label name that no stream has: hints with it hold only by content. */
const NO_LABEL = '__kjournal_no_label__';

const reEscape = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

export interface SelectionInput {
  readonly resource: KubeResource;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Default lower bound: now minus this, when no time bound is given (nanoseconds). */
  readonly window: bigint;
  readonly now?: bigint;
}

/** Compiles the request's scope and selectors into what the store takes and an exact predicate. */
export function compileSelection(input: SelectionInput): CompiledSelection {
  const { resource } = input;
  const now = input.now ?? nowNs();
  const labels = parseLabelSelector(input.labelSelector ?? '');
  const fields = parseFieldSelector(input.fieldSelector ?? '');
  for (const f of fields) checkField(resource, f);
  const matchers: LabelMatcher[] = [{ name: 'kind', op: '=', value: resource.storeKind }];
  const hints: ContentHint[] = [];
  let start: bigint | undefined;
  let end: bigint | undefined;
  const lower = (t: bigint): void => {
    if (start === undefined || t > start) start = t;
  };
  const upper = (t: bigint): void => {
    if (end === undefined || t < end) end = t;
  };
  const eq: FieldRequirement[] = [...fields];
  if (input.namespace !== undefined)
    eq.push({ field: 'metadata.namespace', op: '=', value: input.namespace });

  for (const f of eq) {
    if (f.field === TIME_FIELD) {
      const t = parseTimeBound(f.value, now);
      if (f.op === '>=') lower(t);
      else if (f.op === '>') lower(t + 1n);
      else if (f.op === '<=') upper(t + 1n);
      else upper(t);
      continue;
    }
    if (f.op !== '=' || f.value === '') continue;
    if (f.field === 'metadata.name') {
      const id = parseObjectName(f.value);
      if (id) {
        lower(id.timestamp);
        upper(id.timestamp + 1n);
      }
      continue;
    }
    const label = LABEL_FIELDS[f.field];
    // Events take their namespace from the body: the stream's namespace label may be the collector's.
    if (label !== undefined && resource.storeKind === 'containerlog') {
      // The label, or no such label (the value may then be in structured metadata).
      matchers.push({ name: label, op: '=~', value: `(?:${reEscape(f.value)})?` });
      hints.push({ label, literal: f.value });
    } else if (label !== undefined || f.field === 'stream' || f.field === 'source') {
      hints.push({ label: label ?? f.field, literal: f.value });
    } else {
      hints.push({ label: NO_LABEL, literal: f.value });
    }
  }
  // Pod labels (objects.ts podLabelsOf): a stream that gives the label decides it, whatever the
  // line's structured metadata says; a stream that does not leaves it to the metadata.
  for (const r of labels) {
    if (r.op !== '=' && !(r.op === 'in' && r.values.length === 1)) continue;
    const v = r.values[0]!;
    if (v === '') continue;
    const [label, ...orLabels] = podLabelNames(safeName(r.key));
    hints.push({ label: label!, literal: v, orLabels });
  }
  const streamFilter =
    labels.length === 0
      ? undefined
      : (streamLabels: Labels): boolean =>
          labels.every((r) => {
            const v = streamPodLabel(streamLabels, safeName(r.key));
            return v === undefined || matchesLabels([r], { [r.key]: v });
          });
  const countable =
    labels.length === 0 &&
    eq.every(
      (f) =>
        f.field === TIME_FIELD ||
        (resource.storeKind === 'containerlog' &&
          f.op === '=' &&
          f.value !== '' &&
          LABEL_FIELDS[f.field] !== undefined),
    );
  const explicitStart = start !== undefined;
  const explicitEnd = end !== undefined;
  const s = start ?? now - input.window;
  const e = end ?? now + 86_400n * 1_000_000_000n;
  return {
    matchers,
    hints,
    ...(streamFilter ? { streamFilter } : {}),
    start: s,
    end: e,
    explicitStart,
    explicitEnd,
    countable,
    matches(obj: KubeObject): boolean {
      if (labels.length > 0 && !matchesLabels(labels, obj.metadata.labels ?? {})) return false;
      for (const f of eq) {
        if (f.field === TIME_FIELD) continue; // applied exactly as the store's time range
        const v = fieldValue(obj, f.field) ?? '';
        if (f.op === '=' ? v !== f.value : v === f.value) return false;
      }
      return true;
    },
  };
}
