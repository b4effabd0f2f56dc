import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestAccess } from '../../src/auth/access.js';
import { ForbiddenError } from '../../src/auth/errors.js';
import type { Attributes, UserInfo } from '../../src/auth/types.js';
import { requireWrite, writeScopes } from '../../src/auth/writes.js';
import type { LogRecord } from '../../src/model/record.js';

const rec = (
  labels: Record<string, string>,
  body = 'x',
  attributes: Record<string, string> = {},
): LogRecord => ({
  timestamp: 1n,
  observedTimestamp: 1n,
  labels,
  attributes,
  body,
});

const scopes = (records: LogRecord[]) =>
  Object.fromEntries([...writeScopes(records)].map(([r, ns]) => [r, [...ns].sort()]));

describe('what a write needs', () => {
  it('each record: its resource, in every namespace it names under any spelling', () => {
    assert.deepEqual(
      scopes([
        rec({ kind: 'containerlog', namespace: 'shop' }),
        rec({ kind: 'containerlog', kubernetes_namespace_name: 'bank' }),
        rec({ kind: 'containerlog', namespace: 'shop' }, 'x', { k8s_namespace_name: 'vault' }),
        rec({ kind: 'containerlog', pod: 'p' }),
        rec({ kind: 'auditevent', namespace: 'shop' }),
        rec({ kind: 'log', node: 'n1' }),
      ]),
      { containerlogs: ['', 'bank', 'shop', 'vault'], auditevents: [''], logs: [''] },
    );
  });

  it('an event: also every namespace its body names, in each shape the intake takes', () => {
    const core = { involvedObject: { namespace: 'a' }, metadata: { namespace: 'b' }, message: 'm' };
    const v1 = { regarding: { namespace: 'c' }, note: 'n' };
    assert.deepEqual(
      scopes([
        rec({ kind: 'event', namespace: 'shop' }, JSON.stringify(core)),
        rec({ kind: 'event', namespace: 'shop' }, JSON.stringify(v1)),
        rec(
          { kind: 'event' },
          JSON.stringify({ verb: 'ADDED', event: { involvedObject: { namespace: 'd' } } }),
        ),
        rec({ kind: 'event' }, JSON.stringify({ type: 'ADDED', object: { regarding: { namespace: 'e' } } })),
        rec({ kind: 'event' }, 'not json'),
      ]),
      { events: ['', 'a', 'b', 'c', 'd', 'e', 'shop'] },
    );
  });
});

describe('requireWrite', () => {
  const user: UserInfo = { name: 'w', groups: [], extra: {} };
  const access = (allow: (a: Attributes) => boolean) => {
    const asked: string[] = [];
    const a = new RequestAccess(user, 'default', '/loki/api/v1/push', async (attrs) => {
      asked.push(`${attrs.verb} ${attrs.resource} ${attrs.namespace || '*'}`);
      return allow(attrs) ? 'allow' : 'no-opinion';
    });
    return { a, asked };
  };
  const records = [
    rec({ kind: 'containerlog', namespace: 'shop' }),
    rec({ kind: 'containerlog', namespace: 'bank' }),
  ];

  it('one question when the cluster-wide one is allowed', async () => {
    const { a, asked } = access(() => true);
    await requireWrite(a, records);
    assert.deepEqual(asked, ['create containerlogs *']);
    assert.equal(a.decided, true);
  });

  it('else namespace by namespace, refusing at the first one not allowed', async () => {
    const { a, asked } = access((x) => x.namespace === 'shop');
    await assert.rejects(
      requireWrite(a, records),
      (e: Error) =>
        e instanceof ForbiddenError &&
        e.message ===
          'containerlogs.core.kjournal is forbidden: User "w" cannot create resource "containerlogs" in API group "core.kjournal" in the namespace "bank"',
    );
    assert.deepEqual(asked, [
      'create containerlogs *',
      'create containerlogs shop',
      'create containerlogs bank',
    ]);
  });

  it('a cluster-scoped resource is asked once, and nothing to store is a decision too', async () => {
    const { a, asked } = access(() => false);
    await assert.rejects(requireWrite(a, [rec({ kind: 'auditevent' })]), ForbiddenError);
    assert.deepEqual(asked, ['create auditevents *']);
    const empty = access(() => false);
    await requireWrite(empty.a, []);
    assert.equal(empty.a.decided, true);
    assert.deepEqual(empty.asked, []);
  });
});
