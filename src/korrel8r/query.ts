/**
 * @module korrel8r's log queries: `log:<class>:<selector>`, where the selector is either a
 * container selector (JSON: `namespace`, `name`, `labels`, `fields`, `containers`, all optional)
 * or a LogQL expression. A container selector translates to LogQL with Viaq names exactly as
 * korrel8r's `ContainerSelector.LogQL()` writes it (pkg/domains/log/direct_store.go), and also to
 * stream matchers and a per-entry test, so that kjournal can run it without a LogQL pipeline.
 * Shared by the HTTP API and the CLI.
 */

import { goQuote } from '../go/quote.js';
import { safeName } from '../model/names.js';
import { CLASSES, type LogClass } from '../model/record.js';
import type { LabelMatcher } from '../store/store.js';

export interface ContainerSelector {
  readonly namespace?: string;
  readonly name?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Kubernetes field selectors (`spec.nodeName`, `metadata.name`, ...). */
  readonly fields?: Readonly<Record<string, string>>;
  /** Only these containers; all when empty or absent. */
  readonly containers?: readonly string[];
}

export type Korrel8rLogQuery =
  | {
      readonly class: LogClass;
      readonly kind: 'container';
      readonly selector: ContainerSelector;
      readonly logql: string;
    }
  | { readonly class: LogClass; readonly kind: 'logql'; readonly logql: string };

export class Korrel8rQueryError extends Error {
  override readonly name = 'Korrel8rQueryError';
}

const SELECTOR_FIELDS = new Set(['namespace', 'name', 'labels', 'fields', 'containers']);

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Korrel8rQueryError(`container selector: "${field}" must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string')
      throw new Korrel8rQueryError(`container selector: "${field}.${k}" must be a string`);
    out[k] = v;
  }
  return out;
}

/** Parses a container selector; undefined when `text` is not a JSON object (then it is LogQL). */
export function parseContainerSelector(text: string): ContainerSelector | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  const out: {
    namespace?: string;
    name?: string;
    labels?: Record<string, string>;
    fields?: Record<string, string>;
    containers?: string[];
  } = {};
  for (const [k, v] of Object.entries(obj)) {
    if (!SELECTOR_FIELDS.has(k)) throw new Korrel8rQueryError(`container selector: unknown field "${k}"`);
    if (v === null || v === undefined) continue;
    switch (k) {
      case 'namespace':
      case 'name':
        if (typeof v !== 'string')
          throw new Korrel8rQueryError(`container selector: "${k}" must be a string`);
        out[k] = v;
        break;
      case 'labels':
      case 'fields':
        out[k] = stringMap(v, k);
        break;
      case 'containers':
        if (!Array.isArray(v) || v.some((c) => typeof c !== 'string'))
          throw new Korrel8rQueryError('container selector: "containers" must be an array of strings');
        out.containers = v as string[];
        break;
    }
  }
  return out;
}

const REGEX_META = /[\\^$.|?*+()[\]{}]/g;

/**
 * korrel8r's translation: Viaq stream matchers for namespace, pod and containers, then `|json` and
 * one label filter per pod label (sorted by name; korrel8r iterates a Go map). Fields are not
 * translated, as in korrel8r. Without namespace, name or containers, kjournal selects every
 * container log (`{kubernetes_namespace_name=~".+"}`) where korrel8r writes an invalid `}|json`.
 */
export function containerSelectorToLogql(sel: ContainerSelector): string {
  const parts: string[] = [];
  const add = (k: string, v: string) => {
    if (v !== '') parts.push(`${k}${goQuote(v)}`);
  };
  add('kubernetes_namespace_name=', sel.namespace ?? '');
  add('kubernetes_pod_name=', sel.name ?? '');
  // Joined as korrel8r joins them, unescaped: container names are DNS labels.
  add('kubernetes_container_name=~', (sel.containers ?? []).join('|'));
  if (parts.length === 0) parts.push('kubernetes_namespace_name=~".+"');
  let out = `{${parts.join(',')}}|json`;
  for (const k of Object.keys(sel.labels ?? {}).sort()) {
    out += `|kubernetes_labels_${safeName(k)}=${goQuote(sel.labels?.[k] ?? '')}`;
  }
  return out;
}

/** Field selectors that name stream metadata, and the label each one is. */
const FIELD_LABELS: Readonly<Record<string, string>> = {
  'metadata.name': 'kubernetes_pod_name',
  'metadata.namespace': 'kubernetes_namespace_name',
  'spec.nodeName': 'kubernetes_host',
};

/**
 * The stream matchers of a container selector (Viaq names, which find plain and OTEL spellings
 * too) and the attribute equalities left to test on each entry (pod labels, which may be stream
 * labels, structured metadata or fields of a JSON body, as `| json` would find them).
 */
export function containerSelectorPlan(sel: ContainerSelector): {
  matchers: LabelMatcher[];
  attributes: Record<string, string>;
} {
  const matchers: LabelMatcher[] = [];
  if (sel.namespace) matchers.push({ name: 'kubernetes_namespace_name', op: '=', value: sel.namespace });
  if (sel.name) matchers.push({ name: 'kubernetes_pod_name', op: '=', value: sel.name });
  if (sel.containers && sel.containers.length > 0) {
    const re = sel.containers.map((c) => c.replace(REGEX_META, '\\$&')).join('|');
    matchers.push({ name: 'kubernetes_container_name', op: '=~', value: re });
  }
  for (const [field, value] of Object.entries(sel.fields ?? {})) {
    const label = FIELD_LABELS[field];
    if (label) matchers.push({ name: label, op: '=', value });
  }
  if (matchers.length === 0) matchers.push({ name: 'kubernetes_namespace_name', op: '=~', value: '.+' });
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(sel.labels ?? {})) attributes[`kubernetes_labels_${safeName(k)}`] = v;
  return { matchers, attributes };
}

/** Parses `log:<class>:<selector>`. */
export function parseKorrel8rQuery(query: string): Korrel8rLogQuery {
  const m = /^log:([^:]*):([\s\S]*)$/.exec(query.trim());
  if (!m) throw new Korrel8rQueryError(`not a log query, expecting log:<class>:<selector>: ${query}`);
  const cls = m[1]!;
  const selector = m[2]!.trim();
  if (!(CLASSES as readonly string[]).includes(cls))
    throw new Korrel8rQueryError(`unknown log class "${cls}": expecting one of ${CLASSES.join(', ')}`);
  if (selector === '') throw new Korrel8rQueryError('empty selector');
  const container = parseContainerSelector(selector);
  if (container) {
    return {
      class: cls as LogClass,
      kind: 'container',
      selector: container,
      logql: containerSelectorToLogql(container),
    };
  }
  return { class: cls as LogClass, kind: 'logql', logql: selector };
}
