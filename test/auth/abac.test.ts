import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { abacAuthorize, parsePolicies } from '../../src/auth/abac.js';
import { AuthConfigError } from '../../src/auth/errors.js';
import {
  type Attributes,
  nonResourceAttributes,
  resourceAttributes,
  type UserInfo,
} from '../../src/auth/types.js';

const P = (spec: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: 'abac.authorization.kubernetes.io/v1beta1', kind: 'Policy', spec });

const POLICY_FILE = [
  '# kjournal policies',
  P({ user: 'admin', namespace: '*', resource: '*', apiGroup: '*' }),
  P({ user: 'auditor', namespace: '*', resource: 'auditevents', apiGroup: '*', readonly: true }),
  P({ group: 'shop-devs', namespace: 'shop', resource: '*', apiGroup: 'core.kjournal', readonly: true }),
  P({ user: 'pusher', namespace: 'shop', resource: 'containerlogs', apiGroup: 'core.kjournal' }),
  P({ user: '*', nonResourcePath: '/ready', readonly: true }),
  P({ group: 'monitoring', nonResourcePath: '/metrics*', readonly: true }),
  '',
  '   ',
  JSON.stringify({ user: 'legacy', readonly: true }),
].join('\n');

const policies = parsePolicies(POLICY_FILE, 'policy.jsonl');

const user = (name: string, ...groups: string[]): UserInfo => ({
  name,
  groups: [...groups, 'system:authenticated'],
  extra: {},
});
const anon: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'], extra: {} };
const res = (
  u: UserInfo,
  verb: string,
  resource: string,
  namespace?: string,
  apiGroup?: string,
): Attributes =>
  resourceAttributes(u, verb, resource, {
    ...(namespace !== undefined ? { namespace } : {}),
    ...(apiGroup !== undefined ? { apiGroup } : {}),
  });

describe('ABAC policy file', () => {
  it('loads JSON lines, skipping blank and # lines, converting unversioned lines', () => {
    assert.equal(policies.length, 7);
    assert.equal(policies[0]!.source, 'policy.jsonl:2');
    // v0 without subject fields... here user legacy: every group, namespace and resource, all paths.
    assert.deepEqual(policies[6]!.spec, {
      user: 'legacy',
      group: '',
      readonly: true,
      apiGroup: '*',
      namespace: '*',
      resource: '*',
      nonResourcePath: '*',
    });
    // v1beta1: a * user means every authenticated user.
    assert.deepEqual(
      { user: policies[4]!.spec.user, group: policies[4]!.spec.group },
      { user: '', group: 'system:authenticated' },
    );
  });

  it('names file and line of a bad policy', () => {
    assert.throws(
      () =>
        parsePolicies(
          `${P({ user: 'a' })}\n{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":{"readonly":"yes"}}`,
          'p.jsonl',
        ),
      (e: Error) =>
        e instanceof AuthConfigError &&
        /^policy file p\.jsonl:2: readonly must be true or false/.test(e.message),
    );
    assert.throws(() => parsePolicies('{not json', 'p.jsonl'), /p\.jsonl:1: not JSON/);
    assert.throws(
      () => parsePolicies(P({}).replace('v1beta1', 'v2'), 'p.jsonl'),
      /p\.jsonl:1: apiVersion must be/,
    );
    assert.throws(
      () => parsePolicies(P({}).replace('"Policy"', '"Role"'), 'p.jsonl'),
      /p\.jsonl:1: kind must be Policy/,
    );
  });

  const table: [string, Attributes, 'allow' | 'no-opinion'][] = [
    ['admin reads containerlogs anywhere', res(user('admin'), 'list', 'containerlogs', 'shop'), 'allow'],
    ['admin writes across namespaces', res(user('admin'), 'create', 'containerlogs', ''), 'allow'],
    [
      'a * resource grants auditevents, as in Kubernetes',
      res(user('admin'), 'list', 'auditevents', ''),
      'allow',
    ],
    [
      'a * resource grants tenants',
      { ...res(user('admin'), 'create', 'tenants', ''), name: 'customer-2' },
      'allow',
    ],
    ['explicit auditevents rule grants them', res(user('auditor'), 'list', 'auditevents', ''), 'allow'],
    [
      'explicit auditevents rule, any namespace',
      res(user('auditor'), 'get', 'auditevents', 'kube-system'),
      'allow',
    ],
    ['auditor is readonly', res(user('auditor'), 'delete', 'auditevents', ''), 'no-opinion'],
    ['auditor sees nothing else', res(user('auditor'), 'list', 'containerlogs', 'shop'), 'no-opinion'],
    [
      'group member reads its namespace',
      res(user('dana', 'shop-devs'), 'list', 'containerlogs', 'shop'),
      'allow',
    ],
    [
      'group member reads events in its namespace',
      res(user('dana', 'shop-devs'), 'watch', 'events', 'shop'),
      'allow',
    ],
    [
      'namespace isolation: another namespace',
      res(user('dana', 'shop-devs'), 'list', 'containerlogs', 'bank'),
      'no-opinion',
    ],
    [
      'namespace isolation: all namespaces',
      res(user('dana', 'shop-devs'), 'list', 'containerlogs', ''),
      'no-opinion',
    ],
    [
      'namespace isolation: no namespace given',
      res(user('dana', 'shop-devs'), 'list', 'containerlogs'),
      'no-opinion',
    ],
    [
      '* resource in a namespace: auditevents are cluster-scoped, so not there',
      res(user('dana', 'shop-devs'), 'list', 'auditevents', ''),
      'no-opinion',
    ],
    ['readonly: no create', res(user('dana', 'shop-devs'), 'create', 'containerlogs', 'shop'), 'no-opinion'],
    ['apiGroup must match', res(user('dana', 'shop-devs'), 'list', 'pods', 'shop', ''), 'no-opinion'],
    ['non-readonly policy allows writes', res(user('pusher'), 'create', 'containerlogs', 'shop'), 'allow'],
    [
      'every policy allows reads of what it covers',
      res(user('pusher'), 'get', 'containerlogs', 'shop'),
      'allow',
    ],
    ['resource must match exactly', res(user('pusher'), 'create', 'events', 'shop'), 'no-opinion'],
    ['user must match exactly', res(user('pusher2'), 'create', 'containerlogs', 'shop'), 'no-opinion'],
    ['user * means authenticated: /ready', nonResourceAttributes(user('nobody'), 'GET', '/ready'), 'allow'],
    ['user * excludes anonymous', nonResourceAttributes(anon, 'GET', '/ready'), 'no-opinion'],
    [
      'readonly non-resource: POST refused',
      nonResourceAttributes(user('nobody'), 'POST', '/ready'),
      'no-opinion',
    ],
    ['exact path only', nonResourceAttributes(user('nobody'), 'GET', '/ready/x'), 'no-opinion'],
    [
      'trailing * is a prefix',
      nonResourceAttributes(user('m', 'monitoring'), 'GET', '/metrics/cadvisor'),
      'allow',
    ],
    [
      'trailing * matches the bare prefix',
      nonResourceAttributes(user('m', 'monitoring'), 'GET', '/metrics'),
      'allow',
    ],
    [
      'prefix must match',
      nonResourceAttributes(user('m', 'monitoring'), 'GET', '/loki/api/v1/push'),
      'no-opinion',
    ],
    [
      'resource policies do not cover paths',
      nonResourceAttributes(user('admin'), 'GET', '/loki/api/v1/labels'),
      'no-opinion',
    ],
    [
      'unversioned policy: readonly everywhere',
      res(user('legacy'), 'list', 'containerlogs', 'bank'),
      'allow',
    ],
    [
      'unversioned policy: every resource, auditevents too',
      res(user('legacy'), 'list', 'auditevents', ''),
      'allow',
    ],
    ['unversioned policy: paths too', nonResourceAttributes(user('legacy'), 'GET', '/anything'), 'allow'],
  ];
  for (const [name, attrs, want] of table) {
    it(name, () => assert.equal(abacAuthorize(policies, attrs), want));
  }

  it('a group policy with an explicit user requires both', () => {
    const both = parsePolicies(
      P({ user: 'u', group: 'g', namespace: '*', resource: '*', apiGroup: '*' }),
      'p',
    );
    assert.equal(abacAuthorize(both, res(user('u', 'g'), 'get', 'logs', 'a')), 'allow');
    assert.equal(abacAuthorize(both, res(user('u'), 'get', 'logs', 'a')), 'no-opinion');
    assert.equal(abacAuthorize(both, res(user('v', 'g'), 'get', 'logs', 'a')), 'no-opinion');
    const none = parsePolicies(P({ namespace: '*', resource: '*', apiGroup: '*' }), 'p');
    assert.equal(
      abacAuthorize(none, res(user('u'), 'get', 'logs', 'a')),
      'no-opinion',
      'no subject matches no one',
    );
  });
});
