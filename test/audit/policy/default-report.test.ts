/**
 * @module The default policy, the resolution of the CLI flag, and the report of what a policy
 * keeps (counts, bytes, the table).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  AuditPolicyError,
  applyPolicyToBody,
  DEFAULT_AUDIT_POLICY,
  DEFAULT_AUDIT_POLICY_YAML,
  evaluateEvent,
  formatPolicyReport,
  loadAuditPolicy,
  policyReport,
  resolveAuditPolicy,
} from '../../../src/audit/policy/index.js';
import { configMap, event } from './events.js';

describe('the default policy', () => {
  it('is the YAML it publishes', () => {
    assert.deepEqual(DEFAULT_AUDIT_POLICY, loadAuditPolicy(DEFAULT_AUDIT_POLICY_YAML));
  });

  it('records create, update, patch and delete at Metadata, nothing else', () => {
    for (const verb of ['create', 'update', 'patch', 'delete']) {
      const d = evaluateEvent(DEFAULT_AUDIT_POLICY, event({ verb, resource: 'pods', namespace: 'a' }));
      assert.equal(d.level, 'Metadata', verb);
    }
    for (const verb of ['get', 'list', 'watch', 'deletecollection']) {
      assert.equal(
        evaluateEvent(DEFAULT_AUDIT_POLICY, event({ verb, resource: 'pods' })).level,
        'None',
        verb,
      );
    }
    assert.equal(evaluateEvent(DEFAULT_AUDIT_POLICY, event({ verb: 'get', uri: '/healthz' })).level, 'None');
    const body = JSON.stringify(
      event({ resource: 'pods', requestObject: configMap('x'), responseObject: configMap('x') }),
    );
    const out = JSON.parse(applyPolicyToBody(DEFAULT_AUDIT_POLICY, body).body ?? 'null');
    assert.equal(out.level, 'Metadata');
    assert.equal(out.requestObject, undefined);
    assert.equal(out.responseObject, undefined);
    const received = JSON.stringify(event({ resource: 'pods', stage: 'RequestReceived' }));
    assert.equal(applyPolicyToBody(DEFAULT_AUDIT_POLICY, received).body, null, 'RequestReceived dropped');
  });
});

describe('resolveAuditPolicy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kjournal-policy-flag-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('no flag: the default; none: no policy; a path: the file', async () => {
    assert.equal(await resolveAuditPolicy(), DEFAULT_AUDIT_POLICY);
    assert.equal(await resolveAuditPolicy(undefined), DEFAULT_AUDIT_POLICY);
    assert.equal(await resolveAuditPolicy('none'), null);
    const file = join(dir, 'p.yaml');
    writeFileSync(file, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: RequestResponse}]\n');
    const p = await resolveAuditPolicy(file);
    assert.equal(p?.rules[0]?.level, 'RequestResponse');
  });

  it('a bad file rejects with AuditPolicyError naming it', async () => {
    const file = join(dir, 'empty.yaml');
    writeFileSync(file, 'apiVersion: audit.k8s.io/v1\nkind: Policy\n');
    await assert.rejects(resolveAuditPolicy(file), (err: unknown) => {
      assert.ok(err instanceof AuditPolicyError);
      assert.equal(err.message, `loaded illegal policy with 0 rules: from file ${file}`);
      return true;
    });
  });
});

describe('policyReport', () => {
  const policy = loadAuditPolicy(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    verbs: [get, list, watch]
  - level: Metadata
    resources: [{group: "", resources: [secrets]}]
  - level: RequestResponse
    namespaces: [prod]
  - level: Request
    namespaces: [never]
`);
  const bodies = [
    JSON.stringify(event({ verb: 'get', resource: 'pods', namespace: 'a' })),
    JSON.stringify(event({ verb: 'list', resource: 'pods', namespace: 'a' })),
    JSON.stringify(event({ resource: 'secrets', namespace: 'a', requestObject: configMap('s') })),
    JSON.stringify(event({ resource: 'pods', namespace: 'prod', requestObject: configMap('p') })),
    JSON.stringify(event({ resource: 'pods', namespace: 'prod', stage: 'RequestReceived' })),
    JSON.stringify(event({ verb: 'create', uri: '/apis', resource: undefined })),
    'not json',
  ];
  const size = (s: string): number => Buffer.byteLength(s);
  const after = (b: string): number => size(applyPolicyToBody(policy, b).body ?? '');
  const report = policyReport(policy, bodies);

  it('counts per rule, with the rules nothing matched and "no rule matched"', () => {
    assert.deepEqual(
      report.rules.map((r) => [r.rule, r.level, r.events, r.keptEvents]),
      [
        [0, 'None', 2, 0],
        [1, 'Metadata', 1, 1],
        [2, 'RequestResponse', 2, 1],
        [3, 'Request', 0, 0],
        [-1, 'None', 1, 0],
      ],
    );
    const r1 = report.rules[1]!;
    assert.equal(r1.bytesBefore, size(bodies[2]!));
    assert.equal(r1.bytesAfter, after(bodies[2]!));
    assert.ok(r1.bytesAfter < r1.bytesBefore);
    assert.equal(report.rules[2]!.bytesAfter, size(bodies[3]!), 'RequestResponse keeps the body as it is');
    assert.equal(report.rules[2]!.bytesBefore, size(bodies[3]!) + size(bodies[4]!));
  });

  it('counts per level and in total; text that is not JSON is kept and counted apart', () => {
    assert.deepEqual(report.levels.None, {
      events: 3,
      keptEvents: 0,
      bytesBefore: size(bodies[0]!) + size(bodies[1]!) + size(bodies[5]!),
      bytesAfter: 0,
    });
    assert.equal(report.levels.Metadata.keptEvents, 1);
    assert.equal(report.levels.Request.events, 0);
    assert.equal(report.levels.RequestResponse.events, 2);
    assert.deepEqual(report.invalid, { events: 1, keptEvents: 1, bytesBefore: 8, bytesAfter: 8 });
    assert.deepEqual(report.total, {
      events: 7,
      keptEvents: 3,
      bytesBefore: bodies.reduce((n, b) => n + size(b), 0),
      bytesAfter: after(bodies[2]!) + size(bodies[3]!) + 8,
    });
  });

  it('formats as plain-text tables', () => {
    const text = formatPolicyReport(report);
    const lines = text.split('\n');
    assert.match(lines[0]!, /^RULE +LEVEL +EVENTS +KEPT +BYTES BEFORE +BYTES AFTER +BYTES KEPT$/);
    assert.match(lines[1]!, /^rules\[0\] +None +2 +0 +\d+ +0 +0\.0%$/);
    assert.match(lines[4]!, /^rules\[3\] +Request +0 +0 +0 +0 +-$/);
    assert.match(lines[5]!, /^no rule matched +None +1 +0 /);
    assert.equal(lines[6], '');
    assert.match(lines[7]!, /^LEVEL +EVENTS +KEPT/);
    assert.match(text, /\nnot JSON \(kept\) +1 +1 +8 +8 +100\.0%\n/);
    const total = report.total;
    assert.match(
      lines.at(-1)!,
      new RegExp(`^total +7 +3 +${total.bytesBefore} +${total.bytesAfter} +\\d+\\.\\d%$`),
    );
    // Numbers line up on the right.
    const header = lines[0]!;
    assert.equal(lines[1]!.length, header.length);
  });

  it('an empty input', () => {
    const r = policyReport(DEFAULT_AUDIT_POLICY, []);
    assert.deepEqual(r.total, { events: 0, keptEvents: 0, bytesBefore: 0, bytesAfter: 0 });
    assert.match(formatPolicyReport(r), /\ntotal +0 +0 +0 +0 +-$/);
  });
});
