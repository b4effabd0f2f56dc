/**
 * @module kube-apiserver's validation of an audit policy (apis/audit/validation ValidatePolicy),
 * check for check and in the same order: the policy's `omitStages`, then per rule its `level`,
 * `nonResourceURLs`, `resources` (group names, `resourceNames` without `resources`),
 * `omitStages`, and non-resource URLs mixed with resources or namespaces. As upstream, errors
 * about a rule's resources name `rules[i].resources.group`, without the index of the group.
 * A policy without rules is valid here; the loader is what refuses it.
 */
import type { ConfigPath } from '../../config/options.js';
import type { FieldError } from './errors.js';
import { type AuditPolicy, isLevel, isStage, LEVELS, type PolicyRule, STAGES } from './types.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must " +
  "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** An `Invalid value` error. */
function invalid(path: ConfigPath, value: string | readonly string[], detail: string): FieldError {
  return { path, type: 'Invalid value', value, detail };
}

export function validatePolicy(policy: AuditPolicy): FieldError[] {
  const errs = validateOmitStages(policy.omitStages, ['omitStages']);
  policy.rules.forEach((rule, i) => {
    errs.push(...validateRule(rule, ['rules', i]));
  });
  return errs;
}

function validateRule(rule: PolicyRule, path: ConfigPath): FieldError[] {
  const errs = [
    ...validateLevel(rule.level, [...path, 'level']),
    ...validateNonResourceURLs(rule.nonResourceURLs, [...path, 'nonResourceURLs']),
    ...validateResources(rule, [...path, 'resources']),
    ...validateOmitStages(rule.omitStages, [...path, 'omitStages']),
  ];
  if (rule.nonResourceURLs.length > 0 && (rule.resources.length > 0 || rule.namespaces.length > 0)) {
    errs.push(
      invalid(
        [...path, 'nonResourceURLs'],
        rule.nonResourceURLs,
        'rules cannot apply to both regular resources and non-resource URLs',
      ),
    );
  }
  return errs;
}

function validateLevel(level: string, path: ConfigPath): FieldError[] {
  if (isLevel(level)) return [];
  if (level === '') return [{ path, type: 'Required value', detail: '' }];
  return [
    {
      path,
      type: 'Unsupported value',
      value: level,
      detail: `supported values: ${LEVELS.map((l) => JSON.stringify(l)).join(', ')}`,
    },
  ];
}

function validateNonResourceURLs(urls: readonly string[], path: ConfigPath): FieldError[] {
  const errs: FieldError[] = [];
  urls.forEach((url, i) => {
    if (url === '*') return;
    if (!url.startsWith('/'))
      errs.push(invalid([...path, i], url, "non-resource URL rules must begin with a '/' character"));
    if (url !== '' && url.slice(0, -1).includes('*'))
      errs.push(
        invalid([...path, i], url, "non-resource URL wildcards '*' must be the final character of the rule"),
      );
  });
  return errs;
}

/** apimachinery's IsDNS1123Subdomain messages, joined with `,` as validateResources does. */
function dnsSubdomainErrors(value: string): string[] {
  const msgs: string[] = [];
  if (Buffer.byteLength(value) > 253) msgs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(value)) msgs.push(DNS1123_SUBDOMAIN_MSG);
  return msgs;
}

function validateResources(rule: PolicyRule, path: ConfigPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const gr of rule.resources) {
    // The empty string is the core API group.
    if (gr.group !== '') {
      const msgs = dnsSubdomainErrors(gr.group);
      if (msgs.length > 0) errs.push(invalid([...path, 'group'], gr.group, msgs.join(',')));
    }
    if (gr.resourceNames.length > 0 && gr.resources.length === 0)
      errs.push(
        invalid(
          [...path, 'resourceNames'],
          gr.resourceNames,
          'using resourceNames requires at least one resource',
        ),
      );
  }
  return errs;
}

function validateOmitStages(stages: readonly string[], path: ConfigPath): FieldError[] {
  const errs: FieldError[] = [];
  stages.forEach((stage, i) => {
    if (!isStage(stage)) errs.push(invalid([...path, i], stage, `allowed stages are ${STAGES.join(',')}`));
  });
  return errs;
}
