/**
 * @module Applying a policy to recorded events and to records: levels, dropped events and
 * stages, managed fields (objects, lists, tables, patches), records kept or rewritten.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AuditPolicy,
  applyDecision,
  applyPolicy,
  applyPolicyToRecord,
  loadAuditPolicy,
  NotAnEventError,
  type PolicyDecision,
  stripManagedFields,
} from '../../../src/audit/policy/index.js';
import type { LogRecord } from '../../../src/model/record.js';
import { configMap, event, managedFields, type Obj } from './events.js';

const decision = (level: PolicyDecision['level'], more: Partial<PolicyDecision> = {}): PolicyDecision => ({
  rule: 0,
  level,
  omitStages: [],
  omitManagedFields: false,
  ...more,
});

const withBodies = (more: Obj = {}): Obj =>
  event({
    resource: 'configmaps',
    namespace: 'default',
    name: 'c',
    requestObject: configMap('c'),
    responseObject: configMap('c'),
    ...more,
  });

describe('applyDecision', () => {
  it('None drops the event', () => {
    assert.equal(applyDecision(decision('None'), withBodies()).event, null);
  });

  it('an omitted stage drops the event', () => {
    const d = decision('Metadata', { omitStages: ['RequestReceived'] });
    assert.equal(applyDecision(d, withBodies({ stage: 'RequestReceived' })).event, null);
    assert.notEqual(applyDecision(d, withBodies({ stage: 'ResponseComplete' })).event, null);
  });

  it('Metadata removes both objects and keeps the rest', () => {
    const input = withBodies();
    const out = applyDecision(decision('Metadata'), input).event!;
    const { requestObject: _q, responseObject: _r, ...rest } = input;
    assert.deepEqual(out, { ...rest, level: 'Metadata' });
    assert.deepEqual((out as Obj).responseStatus, { metadata: {}, code: 200 });
    assert.ok('requestObject' in input, 'the input is not changed');
    assert.equal(input.level, 'RequestResponse');
  });

  it('Request removes the response object only', () => {
    const out = applyDecision(decision('Request'), withBodies()).event!;
    assert.equal(out.level, 'Request');
    assert.deepEqual(out.requestObject, configMap('c'));
    assert.ok(!('responseObject' in out));
  });

  it('RequestResponse keeps both; an unchanged event is the same object', () => {
    const input = withBodies();
    const applied = applyDecision(decision('RequestResponse'), input);
    assert.equal(applied.event, input);
    assert.equal(applied.changed, false);
  });

  it('never raises the level an event was recorded at', () => {
    const input = event({ level: 'Metadata', resource: 'pods' });
    const applied = applyDecision(decision('RequestResponse'), input);
    assert.equal(applied.event, input);
    assert.equal(applyDecision(decision('Request'), event({ level: 'Metadata' })).event!.level, 'Metadata');
  });

  it('omitManagedFields strips metadata.managedFields from both objects', () => {
    const out = applyDecision(decision('RequestResponse', { omitManagedFields: true }), withBodies()).event!;
    for (const key of ['requestObject', 'responseObject']) {
      assert.deepEqual(out[key], {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { name: 'c', namespace: 'default' },
        data: { k: 'v' },
      });
    }
  });

  it('omitManagedFields keeps a patch request as sent (it is the patch itself)', () => {
    const patch = { metadata: { managedFields: [] as unknown[] } };
    const out = applyDecision(
      decision('RequestResponse', { omitManagedFields: true }),
      withBodies({ verb: 'patch', requestObject: patch }),
    ).event!;
    assert.deepEqual(out.requestObject, patch);
    assert.ok(!('managedFields' in ((out.responseObject as Obj).metadata as Obj)));
  });
});

describe('stripManagedFields', () => {
  it('lists: the list and each item', () => {
    const list = {
      kind: 'ConfigMapList',
      metadata: { resourceVersion: '5' },
      items: [configMap('a'), configMap('b'), 7],
    };
    const out = stripManagedFields(list) as Obj;
    assert.deepEqual(
      (out.items as Obj[]).map((it) => (typeof it === 'object' ? Object.keys(it.metadata as Obj) : it)),
      [['name', 'namespace'], ['name', 'namespace'], 7],
    );
    assert.equal((list.items[0] as Obj).metadata === (out.items as Obj[])[0]!.metadata, false);
    assert.deepEqual(
      ((list.items[0] as Obj).metadata as Obj).managedFields,
      managedFields,
      'input unchanged',
    );
  });

  it('tables: the object of each row', () => {
    const table = { kind: 'Table', rows: [{ cells: ['a'], object: configMap('a') }, { cells: ['b'] }] };
    const out = stripManagedFields(table) as { rows: { object?: Obj }[] };
    assert.deepEqual(out.rows[0]!.object!.metadata, { name: 'a', namespace: 'default' });
    assert.deepEqual(out.rows[1], { cells: ['b'] });
  });

  it('the same value when there is nothing to strip', () => {
    const o = { metadata: { name: 'x' } };
    assert.equal(stripManagedFields(o), o);
    assert.equal(stripManagedFields('text'), 'text');
  });
});

describe('policy rules decide omitManagedFields', () => {
  const policy = loadAuditPolicy(`apiVersion: audit.k8s.io/v1
kind: Policy
omitManagedFields: true
rules:
  - level: RequestResponse
    namespaces: [keep]
    omitManagedFields: false
  - level: RequestResponse
`);
  const mf = (e: Obj | null): unknown => {
    assert.ok(e);
    return ((e.responseObject as Obj).metadata as Obj).managedFields;
  };

  it('inherited from the policy, overridden by the rule', () => {
    assert.equal(mf(applyPolicy(policy, withBodies()).event), undefined);
    assert.deepEqual(mf(applyPolicy(policy, withBodies({ namespace: 'keep' })).event), managedFields);
  });
});

describe('applyPolicyToRecord', () => {
  const policy: AuditPolicy = loadAuditPolicy(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    verbs: [get]
  - level: Metadata
    resources: [{group: "", resources: [secrets]}]
  - level: RequestResponse
`);
  const record = (body: string, attributes: Record<string, string> = {}): LogRecord => ({
    timestamp: 1714557600010000000n,
    observedTimestamp: 1714557600020000000n,
    labels: { kind: 'auditevent', class: 'audit' },
    attributes,
    body,
  });

  it('rewrites the body and the level attribute, keeps the rest', () => {
    const r = record(JSON.stringify(withBodies({ resource: 'secrets' })), {
      level: 'RequestResponse',
      verb: 'create',
    });
    const out = applyPolicyToRecord(policy, r)!;
    assert.notEqual(out, r);
    const body = JSON.parse(out.body) as Obj;
    assert.equal(body.level, 'Metadata');
    assert.ok(!('requestObject' in body));
    assert.deepEqual(out.attributes, { level: 'Metadata', verb: 'create' });
    assert.equal(out.labels, r.labels);
    assert.equal(out.timestamp, r.timestamp);
    assert.deepEqual(
      Object.keys(body).slice(0, 4),
      ['kind', 'apiVersion', 'level', 'auditID'],
      'key order kept',
    );
  });

  it('adds no level attribute to a record without one', () => {
    const out = applyPolicyToRecord(policy, record(JSON.stringify(withBodies({ resource: 'secrets' }))))!;
    assert.deepEqual(out.attributes, {});
  });

  it('the same record when nothing changes; null when dropped', () => {
    const kept = record(JSON.stringify(withBodies()));
    assert.equal(applyPolicyToRecord(policy, kept), kept);
    assert.equal(applyPolicyToRecord(policy, record(JSON.stringify(withBodies({ verb: 'get' })))), null);
    assert.equal(
      applyPolicyToRecord(policy, record(JSON.stringify(withBodies({ stage: 'RequestReceived' })))),
      null,
    );
  });

  it('throws NotAnEventError for a body that is not a JSON object', () => {
    assert.throws(() => applyPolicyToRecord(policy, record('not json')), NotAnEventError);
    assert.throws(() => applyPolicyToRecord(policy, record('[1]')), NotAnEventError);
  });
});
