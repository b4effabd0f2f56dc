/**
 * @module The example policy of kubernetes.io's "Auditing" page (audit/audit-policy.yaml),
 * loaded as written and evaluated for the requests its comments describe.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyPolicy, evaluateEvent, loadAuditPolicy } from '../../../src/audit/policy/index.js';
import { configMap, type EventSpec, event } from './events.js';

const REFERENCE_POLICY = `apiVersion: audit.k8s.io/v1 # This is required.
kind: Policy
# Don't generate audit events for all requests in RequestReceived stage.
omitStages:
  - "RequestReceived"
rules:
  # Log pod changes at RequestResponse level
  - level: RequestResponse
    resources:
    - group: ""
      # Resource "pods" doesn't match requests to any subresource of pods,
      # which is consistent with the RBAC policy.
      resources: ["pods"]
  # Log "pods/log", "pods/status" at Metadata level
  - level: Metadata
    resources:
    - group: ""
      resources: ["pods/log", "pods/status"]

  # Don't log requests to a configmap called "controller-leader"
  - level: None
    resources:
    - group: ""
      resources: ["configmaps"]
      resourceNames: ["controller-leader"]

  # Don't log watch requests by the "system:kube-proxy" on endpoints or services
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
    - group: "" # core API group
      resources: ["endpoints", "services"]

  # Don't log authenticated requests to certain non-resource URL paths.
  - level: None
    userGroups: ["system:authenticated"]
    nonResourceURLs:
    - "/api*" # Wildcard matching.
    - "/version"

  # Log the request body of configmap changes in kube-system.
  - level: Request
    resources:
    - group: "" # core API group
      resources: ["configmaps"]
    # This rule only applies to resources in the "kube-system" namespace.
    # The empty string "" can be used to select non-namespaced resources.
    namespaces: ["kube-system"]

  # Log configmap and secret changes in all other namespaces at the Metadata level.
  - level: Metadata
    resources:
    - group: "" # core API group
      resources: ["secrets", "configmaps"]

  # Log all other resources in core and extensions at the Request level.
  - level: Request
    resources:
    - group: "" # core API group
    - group: "extensions" # Version of group should NOT be included.

  # A catch-all rule to log all other requests at the Metadata level.
  - level: Metadata
    # Long-running requests like watches that fall under this rule will not
    # generate an audit event in RequestReceived.
    omitStages:
      - "RequestReceived"
`;

describe('the kubernetes.io reference policy', () => {
  const policy = loadAuditPolicy(REFERENCE_POLICY);

  it('loads: 9 rules, RequestReceived omitted policy-wide', () => {
    assert.equal(policy.rules.length, 9);
    assert.deepEqual(policy.omitStages, ['RequestReceived']);
    assert.deepEqual(policy.rules[2]!.resources, [
      { group: '', resources: ['configmaps'], resourceNames: ['controller-leader'] },
    ]);
  });

  const cases: [string, EventSpec, number, string][] = [
    ['pod create', { resource: 'pods', namespace: 'default' }, 0, 'RequestResponse'],
    [
      'pods/log',
      { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'default', name: 'p' },
      1,
      'Metadata',
    ],
    [
      'pods/status',
      { verb: 'patch', resource: 'pods', subresource: 'status', namespace: 'ns', name: 'p' },
      1,
      'Metadata',
    ],
    [
      'the controller-leader configmap',
      { verb: 'update', resource: 'configmaps', namespace: 'kube-system', name: 'controller-leader' },
      2,
      'None',
    ],
    [
      'kube-proxy watching endpoints',
      { verb: 'watch', user: 'system:kube-proxy', resource: 'endpoints' },
      3,
      'None',
    ],
    [
      'kube-proxy listing endpoints',
      { verb: 'list', user: 'system:kube-proxy', resource: 'endpoints' },
      7,
      'Request',
    ],
    ['API discovery', { verb: 'get', uri: '/apis/apps/v1' }, 4, 'None'],
    ['/version', { verb: 'get', uri: '/version?timeout=32s' }, 4, 'None'],
    ['/healthz', { verb: 'get', uri: '/healthz' }, 8, 'Metadata'],
    [
      '/version unauthenticated',
      { verb: 'get', uri: '/version', groups: ['system:unauthenticated'] },
      8,
      'Metadata',
    ],
    [
      'configmap in kube-system',
      { verb: 'patch', resource: 'configmaps', namespace: 'kube-system', name: 'c' },
      5,
      'Request',
    ],
    [
      'configmap elsewhere',
      { verb: 'update', resource: 'configmaps', namespace: 'default', name: 'c' },
      6,
      'Metadata',
    ],
    ['secret', { verb: 'get', resource: 'secrets', namespace: 'default', name: 's' }, 6, 'Metadata'],
    ['services', { verb: 'list', resource: 'services', namespace: 'default' }, 7, 'Request'],
    [
      'extensions',
      { verb: 'get', resource: 'ingresses', apiGroup: 'extensions', namespace: 'a' },
      7,
      'Request',
    ],
    [
      'apps deployments',
      { verb: 'create', resource: 'deployments', apiGroup: 'apps', namespace: 'a' },
      8,
      'Metadata',
    ],
  ];
  for (const [what, spec, ruleIndex, level] of cases) {
    it(`${what}: rules[${ruleIndex}] ${level}`, () => {
      const d = evaluateEvent(policy, event(spec));
      assert.equal(d.rule, ruleIndex);
      assert.equal(d.level, level);
      assert.deepEqual(d.omitStages, ['RequestReceived']);
    });
  }

  it('applied: RequestReceived events go, pod changes keep their bodies, secrets lose theirs', () => {
    const body = { requestObject: configMap('x'), responseObject: configMap('x') };
    assert.equal(applyPolicy(policy, event({ resource: 'pods', stage: 'RequestReceived' })).event, null);
    const pod = applyPolicy(policy, event({ resource: 'pods', namespace: 'default', ...body })).event;
    assert.ok(pod && 'requestObject' in pod && 'responseObject' in pod);
    const secret = applyPolicy(
      policy,
      event({ verb: 'update', resource: 'secrets', namespace: 'd', ...body }),
    ).event;
    assert.ok(secret);
    assert.equal(secret.level, 'Metadata');
    assert.ok(!('requestObject' in secret) && !('responseObject' in secret));
    assert.equal(applyPolicy(policy, event({ verb: 'get', uri: '/api' })).event, null);
  });
});
