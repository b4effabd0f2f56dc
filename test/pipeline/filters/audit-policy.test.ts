/**
 * @module The `auditPolicy` pipeline filter: both option forms, records it passes, rewrites,
 * drops and marks, and the ConfigError of each bad option (with the field's path).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, type ConfigPath, Options } from '../../../src/config/options.js';
import type { LogRecord } from '../../../src/model/record.js';
import { ERROR_ATTR, ERROR_DETAILS_ATTR } from '../../../src/pipeline/filter.js';
import { AUDIT_POLICY_ERROR, auditPolicyFilter } from '../../../src/pipeline/filters/audit-policy.js';
import { configMap, event } from '../../audit/policy/events.js';

const dir = mkdtempSync(join(tmpdir(), 'kjournal-policy-filter-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ctx = { baseDir: dir, now: () => 0 };
const at: ConfigPath = ['flows', 0, 'filters', 1, 'auditPolicy'];
const build = (value: unknown) => auditPolicyFilter(new Options(value, at), ctx);

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Metadata
    verbs: [create, update, patch, delete]
`;
writeFileSync(join(dir, 'policy.yaml'), POLICY);

const record = (body: string, kind = 'auditevent'): LogRecord => ({
  timestamp: 1n,
  observedTimestamp: 2n,
  labels: { kind, class: kind === 'auditevent' ? 'audit' : 'application' },
  attributes: { level: 'RequestResponse' },
  body,
});
const create = JSON.stringify(
  event({
    resource: 'configmaps',
    namespace: 'd',
    requestObject: configMap('c'),
    responseObject: configMap('c'),
  }),
);
const get = JSON.stringify(event({ verb: 'get', resource: 'configmaps', namespace: 'd' }));

function behaves(options: unknown): void {
  const f = build(options);
  assert.equal(f.type, 'auditPolicy');
  const out = f.apply(record(create));
  assert.ok(out);
  assert.equal(JSON.parse(out.body).level, 'Metadata');
  assert.equal(JSON.parse(out.body).requestObject, undefined);
  assert.equal(out.attributes.level, 'Metadata');
  assert.equal(f.apply(record(get)), null);
}

describe('auditPolicy filter', () => {
  it('file: relative to the configuration’s directory', () => behaves({ file: 'policy.yaml' }));
  it('file: absolute', () => behaves({ file: join(dir, 'policy.yaml') }));
  it('policy: inline, apiVersion and kind optional', () => {
    behaves({ policy: { rules: [{ level: 'Metadata', verbs: ['create', 'update', 'patch', 'delete'] }] } });
    behaves({
      policy: {
        apiVersion: 'audit.k8s.io/v1',
        kind: 'Policy',
        rules: [{ level: 'Metadata', verbs: ['create'] }],
      },
    });
  });

  it('passes other records unchanged', () => {
    const f = build({ file: 'policy.yaml' });
    const r = record(get, 'containerlog');
    assert.equal(f.apply(r), r);
    const text = record('plain text', 'log');
    assert.equal(f.apply(text), text);
  });

  it('keeps an audit record whose body is not JSON, marked', () => {
    const f = build({ file: 'policy.yaml' });
    const r = record('{"kind": "Event", truncated');
    const out = f.apply(r);
    assert.ok(out);
    assert.equal(out.body, r.body);
    assert.equal(out.attributes[ERROR_ATTR], AUDIT_POLICY_ERROR);
    assert.match(out.attributes[ERROR_DETAILS_ATTR] ?? '', /^audit event is not JSON: /);
    assert.equal(out.attributes.level, 'RequestResponse');
    assert.equal(r.attributes[ERROR_ATTR], undefined, 'the input record is not changed');
  });
});

describe('auditPolicy filter: bad options', () => {
  const fails = (options: unknown, path: ConfigPath, message: string | RegExp): void => {
    assert.throws(
      () => build(options),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.deepEqual(err.path, path);
        if (typeof message === 'string') assert.equal(err.message, message);
        else assert.match(err.message, message);
        return true;
      },
    );
  };

  it('neither or both of file and policy', () => {
    fails({}, at, 'one of file and policy is required');
    fails(undefined, at, 'one of file and policy is required');
    fails(
      { file: 'policy.yaml', policy: { rules: [] } },
      [...at, 'policy'],
      'file and policy are exclusive: give one',
    );
  });

  it('an unknown option', () => {
    fails({ file: 'policy.yaml', flie: 'x' }, [...at, 'flie'], 'unknown field "flie"');
  });

  it('options that are not a mapping, a policy that is not one', () => {
    fails('policy.yaml', at, 'must be a mapping, got string "policy.yaml"');
    fails({ policy: ['x'] }, [...at, 'policy'], 'must be a mapping, got a list');
  });

  it('an inline policy’s errors point at the field', () => {
    fails(
      { policy: { rules: [{ level: 'None' }, { verbs: ['get'] }] } },
      [...at, 'policy', 'rules', 1, 'level'],
      'Required value',
    );
    fails(
      { policy: { rules: [{ level: 'Loud' }, {}] } },
      [...at, 'policy', 'rules', 0, 'level'],
      'Unsupported value: "Loud": supported values: "None", "Metadata", "Request", "RequestResponse" ' +
        '(and: rules[1].level: Required value)',
    );
    fails(
      { policy: { rules: [{ level: 'None', verbs: 'get' }] } },
      [...at, 'policy', 'rules', 0, 'verbs'],
      'failed decoding: expected a list of strings, got string "get"',
    );
    fails({ policy: { rules: [] } }, [...at, 'policy'], 'loaded illegal policy with 0 rules');
    fails(
      { policy: { apiVersion: 'audit.k8s.io/v1beta1', rules: [{ level: 'None' }] } },
      [...at, 'policy', 'apiVersion'],
      'failed decoding: no kind "Policy" is registered for version "audit.k8s.io/v1beta1"',
    );
  });

  it('a file’s errors name the file', () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Metadata}, {}]\n',
    );
    fails(
      { file: 'bad.yaml' },
      [...at, 'file'],
      `rules[1].level: Required value: from file ${join(dir, 'bad.yaml')}`,
    );
    fails({ file: 'missing.yaml' }, [...at, 'file'], /^failed to read file path ".*missing\.yaml": /);
    fails({ file: '' }, [...at, 'file'], 'file path not specified');
  });
});
