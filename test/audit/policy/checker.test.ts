/**
 * @module The policy checker against kube-apiserver's own cases (audit/policy/checker_test.go:
 * TestChecker, TestCheckerPolicyOmitStages, TestUnionStages, TestOmitManagedFields), each request
 * written as the audit event kube-apiserver would have logged for it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AuditPolicy,
  attributesFromEvent,
  evaluateEvent,
  evaluatePolicy,
  type Level,
  type PolicyRule,
  pathMatches,
  type Stage,
} from '../../../src/audit/policy/index.js';
import { gr, rule } from './rules.js';

const tim = { username: 'tim@k8s.io', groups: ['humans', 'developers'] };

/** checker_test.go's `attrs`, as the events they produce. */
const events: Record<string, Record<string, unknown>> = {
  namespaced: {
    user: tim,
    verb: 'get',
    objectRef: { namespace: 'default', apiGroup: '', apiVersion: 'v1', resource: 'pods', name: 'busybox' },
    requestURI: '/api/v1/namespaces/default/pods/busybox',
  },
  cluster: {
    user: tim,
    verb: 'get',
    objectRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      apiVersion: 'v1beta1',
      resource: 'clusterroles',
      name: 'edit',
    },
    requestURI: '/apis/rbac.authorization.k8s.io/v1beta1/clusterroles/edit',
  },
  nonResource: { user: tim, verb: 'get', requestURI: '/logs/kubelet.log' },
  subresource: {
    user: tim,
    verb: 'get',
    objectRef: {
      namespace: 'default',
      apiGroup: '',
      apiVersion: 'v1',
      resource: 'pods',
      subresource: 'log',
      name: 'busybox',
    },
    requestURI: '/api/v1/namespaces/default/pods/busybox',
  },
  Unauthorized: {
    verb: 'get',
    objectRef: { namespace: 'default', apiGroup: '', apiVersion: 'v1', resource: 'pods', name: 'busybox' },
    requestURI: '/api/v1/namespaces/default/pods/busybox',
  },
};

/** checker_test.go's `rules`. */
const rules: Record<string, PolicyRule> = {
  default: rule('Metadata'),
  create: rule('Request', { verbs: ['create'] }),
  tims: rule('Metadata', { users: ['tim@k8s.io'] }),
  humans: rule('Metadata', { userGroups: ['humans'] }),
  serviceAccounts: rule('Request', { userGroups: ['system:serviceaccounts'] }),
  getPods: rule('RequestResponse', { verbs: ['get'], resources: [gr('', ['pods'])] }),
  getPodLogs: rule('Request', { verbs: ['get'], resources: [gr('', ['pods/log'])] }),
  getPodWildcardMatching: rule('Request', { verbs: ['get'], resources: [gr('', ['*'])] }),
  getPodResourceWildcardMatching: rule('Request', { verbs: ['get'], resources: [gr('', ['*/log'])] }),
  getPodSubResourceWildcardMatching: rule('Request', { verbs: ['get'], resources: [gr('', ['pods/*'])] }),
  getClusterRoles: rule('RequestResponse', {
    verbs: ['get'],
    resources: [gr('rbac.authorization.k8s.io', ['clusterroles'])],
    namespaces: [''],
  }),
  getLogs: rule('RequestResponse', { verbs: ['get'], nonResourceURLs: ['/logs*'] }),
  getMetrics: rule('Request', { verbs: ['get'], nonResourceURLs: ['/metrics'] }),
  clusterRoleEdit: rule('Request', {
    resources: [gr('rbac.authorization.k8s.io', ['clusterroles'], ['edit'])],
  }),
  'omit RequestReceived': rule('Request', { omitStages: ['RequestReceived'] }),
  'only audit panic': rule('Request', {
    omitStages: ['RequestReceived', 'ResponseStarted', 'ResponseComplete'],
  }),
};

type Case = [req: string, level: Level, ...ruleNames: string[]];

/** testAuditLevel's cases: the omitted stages expected are the policy's. */
const levelCases: Case[] = [
  ['namespaced', 'Metadata', 'default'],
  ['namespaced', 'None', 'create'],
  ['namespaced', 'Metadata', 'tims'],
  ['namespaced', 'Metadata', 'humans'],
  ['namespaced', 'None', 'serviceAccounts'],
  ['namespaced', 'RequestResponse', 'getPods'],
  ['namespaced', 'None', 'getClusterRoles'],
  ['namespaced', 'None', 'getLogs'],
  ['namespaced', 'None', 'getMetrics'],
  ['namespaced', 'Metadata', 'getMetrics', 'serviceAccounts', 'default'],
  ['namespaced', 'RequestResponse', 'getMetrics', 'getPods', 'default'],
  ['namespaced', 'RequestResponse', 'getPodLogs', 'getPods'],

  ['cluster', 'Metadata', 'default'],
  ['cluster', 'None', 'create'],
  ['cluster', 'Metadata', 'tims'],
  ['cluster', 'Metadata', 'humans'],
  ['cluster', 'None', 'serviceAccounts'],
  ['cluster', 'None', 'getPods'],
  ['cluster', 'RequestResponse', 'getClusterRoles'],
  ['cluster', 'Request', 'clusterRoleEdit', 'getClusterRoles'],
  ['cluster', 'None', 'getLogs'],
  ['cluster', 'None', 'getMetrics'],
  ['cluster', 'Metadata', 'getMetrics', 'serviceAccounts', 'default'],
  ['cluster', 'RequestResponse', 'getMetrics', 'getClusterRoles', 'default'],
  ['cluster', 'None', 'getPodLogs', 'getPods'],

  ['nonResource', 'Metadata', 'default'],
  ['nonResource', 'None', 'create'],
  ['nonResource', 'Metadata', 'tims'],
  ['nonResource', 'Metadata', 'humans'],
  ['nonResource', 'None', 'serviceAccounts'],
  ['nonResource', 'None', 'getPods'],
  ['nonResource', 'None', 'getClusterRoles'],
  ['nonResource', 'RequestResponse', 'getLogs'],
  ['nonResource', 'None', 'getMetrics'],
  ['nonResource', 'Metadata', 'getMetrics', 'serviceAccounts', 'default'],
  ['nonResource', 'RequestResponse', 'getLogs', 'getClusterRoles', 'default'],
  ['nonResource', 'None', 'getPodLogs', 'getPods'],

  ['subresource', 'Request', 'getPodLogs', 'getPods'],
  ['subresource', 'Request', 'getPodWildcardMatching'],
  ['subresource', 'Request', 'getPodResourceWildcardMatching'],
  ['subresource', 'Request', 'getPodSubResourceWildcardMatching'],

  ['Unauthorized', 'None', 'tims'],
  ['Unauthorized', 'Metadata', 'tims', 'default'],
  ['Unauthorized', 'None', 'humans'],
  ['Unauthorized', 'Metadata', 'humans', 'default'],
];

function check(
  req: string,
  level: Level,
  policyStages: Stage[],
  expStages: Stage[],
  ruleNames: string[],
): void {
  const policy: AuditPolicy = {
    omitStages: policyStages,
    omitManagedFields: false,
    rules: ruleNames.map((n) => {
      assert.ok(rules[n], n);
      return rules[n];
    }),
  };
  const event = events[req];
  assert.ok(event, req);
  const d = evaluateEvent(policy, event);
  const what = `request:${req} rules:${ruleNames.join(',')}`;
  assert.equal(d.level, level, what);
  assert.deepEqual(new Set(d.omitStages), new Set(expStages), what);
}

function testAuditLevel(stages: Stage[]): void {
  for (const [req, level, ...names] of levelCases) check(req, level, stages, stages, names);
}

describe('checker (checker_test.go)', () => {
  it('TestChecker', () => {
    testAuditLevel([]);
    const rr: Stage[] = ['RequestReceived'];
    const panicOnly: Stage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete'];
    for (const req of ['namespaced', 'cluster', 'nonResource']) {
      check(req, 'Request', [], rr, ['omit RequestReceived', 'getPods', 'default']);
      check(req, 'Request', [], panicOnly, ['only audit panic', 'getPods', 'default']);
    }
  });

  it('TestCheckerPolicyOmitStages', () => {
    const policyStages: Stage[] = ['RequestReceived', 'ResponseStarted'];
    testAuditLevel(policyStages);
    const panicOnly: Stage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete'];
    for (const req of ['namespaced', 'cluster']) {
      check(req, 'Request', policyStages, policyStages, ['omit RequestReceived', 'getPods', 'default']);
      check(req, 'Request', policyStages, panicOnly, ['only audit panic', 'getPods', 'default']);
    }
    check('nonResource', 'Metadata', policyStages, policyStages, [
      'default',
      'omit RequestReceived',
      'getPods',
    ]);
    check('nonResource', 'Request', policyStages, panicOnly, ['only audit panic', 'getPods', 'default']);
  });

  it('TestUnionStages: the policy’s and the rule’s stages, each once', () => {
    const cases: [Stage[], Stage[], Stage[]][] = [
      [[], [], []],
      [['RequestReceived'], [], ['RequestReceived']],
      [['RequestReceived'], ['RequestReceived'], ['RequestReceived']],
      [['RequestReceived'], ['ResponseStarted'], ['RequestReceived', 'ResponseStarted']],
      [['RequestReceived', 'RequestReceived'], ['RequestReceived', 'RequestReceived'], ['RequestReceived']],
      [
        ['RequestReceived', 'ResponseStarted'],
        ['Panic', 'RequestReceived'],
        ['RequestReceived', 'ResponseStarted', 'Panic'],
      ],
      [[], ['RequestReceived'], ['RequestReceived']],
    ];
    for (const [s1, s2, exp] of cases) {
      const policy: AuditPolicy = {
        omitStages: s1,
        omitManagedFields: false,
        rules: [rule('Metadata', { omitStages: s2 })],
      };
      const got = evaluateEvent(policy, events.namespaced!).omitStages;
      assert.equal(got.length, exp.length);
      assert.deepEqual(new Set(got), new Set(exp));
    }
  });

  it('TestOmitManagedFields: the rule overrides the policy', () => {
    const matching = rule('RequestResponse', { verbs: ['get'] });
    const cases: [boolean, boolean | undefined, boolean][] = [
      [false, undefined, false],
      [true, undefined, true],
      [true, false, false],
      [false, true, true],
    ];
    for (const [global, own, want] of cases) {
      const r: PolicyRule = own === undefined ? matching : { ...matching, omitManagedFields: own };
      const policy: AuditPolicy = { omitStages: [], omitManagedFields: global, rules: [r] };
      assert.equal(evaluateEvent(policy, { verb: 'get' }).omitManagedFields, want, `${global} ${own}`);
    }
  });

  it('no rule matched: None, the policy’s stages and omitManagedFields, rule -1', () => {
    const policy: AuditPolicy = {
      omitStages: ['RequestReceived'],
      omitManagedFields: true,
      rules: [rules.create!],
    };
    assert.deepEqual(evaluateEvent(policy, events.namespaced!), {
      rule: -1,
      level: 'None',
      omitStages: ['RequestReceived'],
      omitManagedFields: true,
    });
    assert.equal(
      evaluateEvent({ ...policy, rules: [rules.getPodLogs!, rules.getPods!] }, events.namespaced!).rule,
      1,
    );
  });
});

describe('attributes of an event', () => {
  it('objectRef makes a resource request; its absence a non-resource one', () => {
    const a = attributesFromEvent(events.subresource!);
    assert.equal(a.resourceRequest, true);
    assert.deepEqual(
      [a.namespace, a.apiGroup, a.resource, a.subresource, a.name],
      ['default', '', 'pods', 'log', 'busybox'],
    );
    assert.deepEqual(a.user, { name: 'tim@k8s.io', groups: ['humans', 'developers'] });
    const n = attributesFromEvent(events.nonResource!);
    assert.equal(n.resourceRequest, false);
    assert.equal(n.path, '/logs/kubelet.log');
    assert.equal(attributesFromEvent(events.Unauthorized!).user, undefined);
  });

  it('the path of requestURI leaves the query out', () => {
    assert.equal(attributesFromEvent({ requestURI: '/healthz?verbose=1' }).path, '/healthz');
    assert.equal(attributesFromEvent({ requestURI: '/a%20b' }).path, '/a b');
    const policy: AuditPolicy = {
      omitStages: [],
      omitManagedFields: false,
      rules: [rule('None', { nonResourceURLs: ['/healthz'] }), rule('Metadata')],
    };
    assert.equal(evaluateEvent(policy, { verb: 'get', requestURI: '/healthz?verbose=1' }).level, 'None');
  });

  it('a user with no name matches users: [""] (a user is there), a missing user does not', () => {
    const policy: AuditPolicy = {
      omitStages: [],
      omitManagedFields: false,
      rules: [rule('Request', { users: [''] })],
    };
    assert.equal(evaluateEvent(policy, { user: {}, verb: 'get' }).level, 'Request');
    assert.equal(evaluateEvent(policy, { verb: 'get' }).level, 'None');
  });
});

describe('matching details', () => {
  const one = (r: PolicyRule, event: Record<string, unknown>): Level =>
    evaluatePolicy({ omitStages: [], omitManagedFields: false, rules: [r] }, attributesFromEvent(event))
      .level;

  it('pathMatches: *, exact, trailing * as a prefix', () => {
    assert.ok(pathMatches('/anything', '*'));
    assert.ok(pathMatches('/version', '/version'));
    assert.ok(!pathMatches('/version/', '/version'));
    assert.ok(pathMatches('/apis/apps', '/api*'));
    assert.ok(pathMatches('/api', '/api*'));
    assert.ok(pathMatches('/logs/x', '/logs**'));
    assert.ok(!pathMatches('/ap', '/api*'));
  });

  it('pods/* matches pods itself and its subresources, not another resource', () => {
    const r = rule('Request', { resources: [gr('', ['pods/*'])] });
    assert.equal(one(r, events.namespaced!), 'Request');
    assert.equal(one(r, events.subresource!), 'Request');
    assert.equal(one(r, { objectRef: { resource: 'services' } }), 'None');
  });

  it('*/scale matches the subresource of any resource, not the resource', () => {
    const r = rule('Request', { resources: [gr('apps', ['*/scale'])] });
    assert.equal(
      one(r, { objectRef: { apiGroup: 'apps', resource: 'deployments', subresource: 'scale' } }),
      'Request',
    );
    assert.equal(one(r, { objectRef: { apiGroup: 'apps', resource: 'deployments' } }), 'None');
    assert.equal(
      one(r, { objectRef: { apiGroup: '', resource: 'replicationcontrollers', subresource: 'scale' } }),
      'None',
    );
  });

  it('pods does not match pods/log; a group without resources matches all of the group', () => {
    assert.equal(one(rule('Request', { resources: [gr('', ['pods'])] }), events.subresource!), 'None');
    assert.equal(one(rule('Request', { resources: [gr('', [])] }), events.subresource!), 'Request');
    assert.equal(one(rule('Request', { resources: [gr('apps', [])] }), events.subresource!), 'None');
  });

  it('namespaces: "" is cluster-scoped; namespaces alone make a resource rule', () => {
    const cs = rule('Request', { namespaces: [''] });
    assert.equal(one(cs, events.cluster!), 'Request');
    assert.equal(one(cs, events.namespaced!), 'None');
    assert.equal(one(cs, events.nonResource!), 'None');
  });

  it('resourceNames restrict the resources', () => {
    const r = rule('Request', { resources: [gr('', ['configmaps'], ['controller-leader'])] });
    assert.equal(one(r, { objectRef: { resource: 'configmaps', name: 'controller-leader' } }), 'Request');
    assert.equal(one(r, { objectRef: { resource: 'configmaps', name: 'other' } }), 'None');
    assert.equal(one(r, { objectRef: { resource: 'configmaps' } }), 'None');
  });
});
