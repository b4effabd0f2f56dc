/**
 * @module Validation and loading against kube-apiserver (apis/audit/validation/validation_test.go
 * TestValidatePolicy, and reader.go's errors): which policies are valid, and the exact messages.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type AuditPolicy,
  AuditPolicyError,
  emptyRule,
  errorText,
  loadAuditPolicy,
  loadAuditPolicyFile,
  loadAuditPolicyFileSync,
  type PolicyRule,
  validatePolicy,
} from '../../../src/audit/policy/index.js';
import { gr, rule } from './rules.js';

const policy = (rules: PolicyRule[], omitStages: string[] = []): AuditPolicy => ({
  rules,
  omitStages,
  omitManagedFields: false,
});

const validRules: PolicyRule[] = [
  rule('Metadata'), // Defaulting rule
  rule('None', { userGroups: ['system:serviceaccounts', 'system:nodes'] }), // Matching non-humans
  rule('RequestResponse', {
    verbs: ['get'],
    resources: [gr('rbac.authorization.k8s.io', ['roles', 'rolebindings'])],
    namespaces: ['kube-system'],
  }),
  rule('Metadata', { userGroups: ['developers'], nonResourceURLs: ['/logs*', '/healthz*', '/metrics', '*'] }),
  rule('Metadata', { omitStages: ['RequestReceived'] }),
];

const invalidRules: PolicyRule[] = [
  rule(''), // Empty rule (missing Level)
  rule('', { verbs: ['get'], resources: [gr('', ['secrets'])], namespaces: ['kube-system'] }),
  rule('FooBar'),
  rule('Metadata', { namespaces: ['default'], nonResourceURLs: ['/logs*'] }),
  rule('Metadata', { resources: [gr('', ['secrets'])], nonResourceURLs: ['/logs*'] }),
  rule('Metadata', { resources: [gr('rbac.authorization.k8s.io/v1beta1', ['roles'])] }),
  rule('Metadata', { nonResourceURLs: ['logs', '/healthz*'] }),
  rule('Metadata', { nonResourceURLs: ['', '/healthz*'] }),
  rule('Metadata', { nonResourceURLs: ['/logs/*/*', '/metrics'] }),
  rule('Metadata', { nonResourceURLs: ['/logs/*.log', '/metrics'] }),
  rule('Metadata', { verbs: ['get'], resources: [gr('', [], ['leader'])], namespaces: ['kube-system'] }),
  rule('Metadata', { omitStages: ['foo'] }),
];

const messages = (p: AuditPolicy): string[] => validatePolicy(p).map(errorText);

describe('validatePolicy (validation_test.go)', () => {
  it('accepts the valid policies', () => {
    const ok = [
      ...validRules.map((r) => policy([r])),
      policy([]), // empty policy is valid (the loader refuses it)
      policy([], ['RequestReceived']),
      policy(validRules),
    ];
    ok.forEach((p, i) => {
      assert.deepEqual(messages(p), [], `[${i}]`);
    });
  });

  it('refuses the invalid ones', () => {
    const bad = [
      ...invalidRules.map((r) => policy([r])),
      policy([...validRules, rule('')]),
      policy([rule('Metadata')], ['foo']),
    ];
    bad.forEach((p, i) => {
      assert.notDeepEqual(messages(p), [], `[${i}]`);
    });
  });

  it('words each error as kube-apiserver does', () => {
    const m = (r: PolicyRule): string[] => messages(policy([r]));
    assert.deepEqual(m(invalidRules[0]!), ['rules[0].level: Required value']);
    assert.deepEqual(m(invalidRules[2]!), [
      'rules[0].level: Unsupported value: "FooBar": supported values: "None", "Metadata", "Request", "RequestResponse"',
    ]);
    assert.deepEqual(m(invalidRules[3]!), [
      'rules[0].nonResourceURLs: Invalid value: []string{"/logs*"}: rules cannot apply to both regular resources and non-resource URLs',
    ]);
    assert.deepEqual(m(invalidRules[5]!), [
      'rules[0].resources.group: Invalid value: "rbac.authorization.k8s.io/v1beta1": a lowercase RFC 1123 subdomain ' +
        "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric " +
        "character (e.g. 'example.com', regex used for validation is " +
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
    assert.deepEqual(m(invalidRules[6]!), [
      `rules[0].nonResourceURLs[0]: Invalid value: "logs": non-resource URL rules must begin with a '/' character`,
    ]);
    assert.deepEqual(m(invalidRules[7]!), [
      `rules[0].nonResourceURLs[0]: Invalid value: "": non-resource URL rules must begin with a '/' character`,
    ]);
    assert.deepEqual(m(invalidRules[8]!), [
      `rules[0].nonResourceURLs[0]: Invalid value: "/logs/*/*": non-resource URL wildcards '*' must be the final character of the rule`,
    ]);
    assert.deepEqual(m(invalidRules[10]!), [
      'rules[0].resources.resourceNames: Invalid value: []string{"leader"}: using resourceNames requires at least one resource',
    ]);
    assert.deepEqual(m(invalidRules[11]!), [
      'rules[0].omitStages[0]: Invalid value: "foo": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic',
    ]);
    assert.deepEqual(messages(policy([rule('Metadata')], ['foo'])), [
      'omitStages[0]: Invalid value: "foo": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic',
    ]);
  });

  it('reports every error, rules in order', () => {
    assert.deepEqual(
      messages(policy([rule('Metadata'), rule(''), rule('Metadata', { nonResourceURLs: ['x*y'] })])),
      [
        'rules[1].level: Required value',
        `rules[2].nonResourceURLs[0]: Invalid value: "x*y": non-resource URL rules must begin with a '/' character`,
        `rules[2].nonResourceURLs[0]: Invalid value: "x*y": non-resource URL wildcards '*' must be the final character of the rule`,
      ],
    );
  });
});

describe('loading (reader.go)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kjournal-policy-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const rejects = (text: string, message: string): void => {
    assert.throws(
      () => loadAuditPolicy(text),
      (err: unknown) => err instanceof AuditPolicyError && err.message === message,
      message,
    );
  };

  it('loads YAML and JSON', () => {
    const yaml = loadAuditPolicy(
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitManagedFields: true\nomitStages: [RequestReceived]\n' +
        'rules:\n- level: Metadata\n  omitManagedFields: false\n  resources:\n  - group: ""\n    resources: [pods/log]\n',
    );
    assert.deepEqual(yaml, {
      omitStages: ['RequestReceived'],
      omitManagedFields: true,
      rules: [
        {
          ...emptyRule('Metadata'),
          omitManagedFields: false,
          resources: [{ group: '', resources: ['pods/log'], resourceNames: [] }],
        },
      ],
    });
    const json = loadAuditPolicy(
      JSON.stringify({
        apiVersion: 'audit.k8s.io/v1',
        kind: 'Policy',
        rules: [{ level: 'None', verbs: null }],
      }),
    );
    assert.deepEqual(json, { omitStages: [], omitManagedFields: false, rules: [emptyRule('None')] });
  });

  it('reads the first YAML document only, as Kubernetes’s YAML reader does', () => {
    const p = loadAuditPolicy(
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None}]\n---\nfoo: [\n',
    );
    assert.equal(p.rules.length, 1);
  });

  it('ignores fields it does not know, as kube-apiserver does', () => {
    const p = loadAuditPolicy(
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nmetadata: {name: x}\nfoo: 1\nrules: [{level: None, bar: 2}]\n',
    );
    assert.equal(p.rules.length, 1);
  });

  it('refuses a policy with 0 rules', () => {
    rejects('apiVersion: audit.k8s.io/v1\nkind: Policy\n', 'loaded illegal policy with 0 rules');
    rejects('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n', 'loaded illegal policy with 0 rules');
  });

  it('needs apiVersion audit.k8s.io/v1 and kind Policy', () => {
    rejects(
      'apiVersion: audit.k8s.io/v1\nrules: [{level: None}]\n',
      "failed decoding: kind: Object 'Kind' is missing",
    );
    rejects(
      'kind: Policy\nrules: [{level: None}]\n',
      "failed decoding: apiVersion: Object 'apiVersion' is missing",
    );
    rejects(
      'apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]\n',
      'failed decoding: apiVersion: no kind "Policy" is registered for version "audit.k8s.io/v1beta1"',
    );
    rejects(
      'apiVersion: audit.k8s.io/v1\nkind: Event\nrules: [{level: None}]\n',
      'failed decoding: kind: no kind "Event" is registered for version "audit.k8s.io/v1"',
    );
  });

  it('stops at a value of the wrong type, naming it', () => {
    rejects(
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, verbs: get}]\n',
      'failed decoding: rules[0].verbs: expected a list of strings, got string "get"',
    );
    rejects(
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, users: [a, 5]}]\n',
      'failed decoding: rules[0].users[1]: expected a string, got number 5',
    );
    rejects(
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitManagedFields: "true"\nrules: [{level: None}]\n',
      'failed decoding: omitManagedFields: expected true or false, got string "true"',
    );
    rejects(
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  level: Metadata\n',
      'failed decoding: line 5, column 3: Map keys must be unique',
    );
    assert.throws(
      () => loadAuditPolicy('rules: [\n'),
      /^AuditPolicyError: failed decoding: line 2, column 1: /,
    );
    rejects('', 'failed decoding: expected a mapping, got null');
  });

  it('aggregates validation errors as [a, b]', () => {
    rejects(
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n- {}\n- level: Foo\n',
      '[rules[1].level: Required value, rules[2].level: Unsupported value: "Foo": supported values: "None", "Metadata", "Request", "RequestResponse"]',
    );
  });

  it('names the file', async () => {
    const bad = write(
      'bad.yaml',
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n- level: None\n- verbs: [get]\n',
    );
    await assert.rejects(loadAuditPolicyFile(bad), {
      name: 'AuditPolicyError',
      message: `rules[2].level: Required value: from file ${bad}`,
    });
    assert.throws(() => loadAuditPolicyFileSync(bad), {
      message: `rules[2].level: Required value: from file ${bad}`,
    });
    const missing = join(dir, 'missing.yaml');
    await assert.rejects(loadAuditPolicyFile(missing), (err: unknown) => {
      assert.ok(err instanceof AuditPolicyError);
      assert.match(err.message, /^failed to read file path ".*missing\.yaml": .*ENOENT/);
      assert.equal(err.file, missing);
      return true;
    });
    await assert.rejects(loadAuditPolicyFile(''), { message: 'file path not specified' });
    const good = write(
      'good.yaml',
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Metadata}]\n',
    );
    assert.equal((await loadAuditPolicyFile(good)).rules[0]!.level, 'Metadata');
  });
});

describe('bad values are quoted as Go quotes them (strconv.Quote, as field.Error prints %q)', () => {
  it('escapes what JSON leaves raw: DEL, a soft hyphen', () => {
    const text = errorText({
      path: ['rules', 0, 'level'],
      type: 'Unsupported value',
      value: 'a\u007fb\u00adc',
      detail: 'x',
    });
    assert.match(text, /"a\\x7fb\\u00adc"/);
  });
});
