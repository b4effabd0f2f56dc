/**
 * One object's timeline (src/kube/timeline.ts): kubectl's TYPE/NAME, the lists and field selectors
 * that tell the object's story, and the merge in time order across kinds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  mergeTimeline,
  ObjectRefError,
  parseObjectRef,
  rfc3339Ns,
  sourcePath,
  timelineSources,
} from '../../src/kube/timeline.js';

describe('object references', () => {
  it('reads kubectl names, plurals and short names, and unknown Kinds', () => {
    assert.deepEqual(parseObjectRef('pod/web-1', 'shop'), {
      kind: 'Pod',
      resource: 'pods',
      name: 'web-1',
      namespace: 'shop',
    });
    assert.deepEqual(parseObjectRef('deploy/api', 'shop'), {
      kind: 'Deployment',
      resource: 'deployments',
      name: 'api',
      namespace: 'shop',
    });
    assert.deepEqual(parseObjectRef('nodes/n1', 'shop'), {
      kind: 'Node',
      resource: 'nodes',
      name: 'n1',
      namespace: '',
    });
    assert.deepEqual(parseObjectRef('NetworkPolicy/deny', 'ns'), {
      kind: 'NetworkPolicy',
      resource: 'networkpolicies',
      name: 'deny',
      namespace: 'ns',
    });
    assert.equal(parseObjectRef('deployments.apps/api', 'x').kind, 'Deployment');
    assert.throws(() => parseObjectRef('web-1', 'x'), ObjectRefError);
    assert.throws(() => parseObjectRef('pod/a/b', 'x'), ObjectRefError);
  });
});

describe('timeline sources', () => {
  it("a pod's container logs, Events and audit events, over the range", () => {
    const s = timelineSources(
      parseObjectRef('pod/web,1', 'shop'),
      '2026-01-01T00:00:00Z',
      '2026-01-02T00:00:00Z',
    );
    const time =
      'metadata.creationTimestamp>=2026-01-01T00:00:00Z,metadata.creationTimestamp<=2026-01-02T00:00:00Z';
    assert.deepEqual(
      s.map((x) => [x.mark, sourcePath(x), x.fieldSelector]),
      [
        ['log', '/apis/core.kjournal/v1alpha1/namespaces/shop/containerlogs', `pod=web\\,1,${time}`],
        [
          'event',
          '/apis/core.kjournal/v1alpha1/namespaces/shop/events',
          `regarding.kind=Pod,regarding.name=web\\,1,${time}`,
        ],
        [
          'audit',
          '/apis/core.kjournal/v1alpha1/auditevents',
          `objectRef.resource=pods,objectRef.name=web\\,1,objectRef.namespace=shop,${time}`,
        ],
      ],
    );
  });

  it('a Node has node logs and cluster-wide Events; a Deployment no logs', () => {
    const node = timelineSources(parseObjectRef('node/n1', 'shop'), 'a', 'b');
    assert.deepEqual(
      node.map((x) => [x.resource, x.namespace]),
      [
        ['logs', ''],
        ['events', ''],
        ['auditevents', ''],
      ],
    );
    assert.deepEqual(
      timelineSources(parseObjectRef('deploy/api', 'shop'), 'a', 'b').map((x) => x.mark),
      ['event', 'audit'],
    );
  });
});

describe('the merge', () => {
  it('orders by nanosecond time across kinds, oldest first, ties in source order', () => {
    const at = (ts: string) => ({ metadata: { annotations: { 'core.kjournal/timestamp': ts } } });
    const rows = mergeTimeline([
      {
        mark: 'log',
        items: [
          { ...at('2026-01-01T00:00:01.000000002Z'), payload: 'b' },
          { ...at('2026-01-01T00:00:03Z'), payload: 'd' },
        ],
      },
      {
        mark: 'event',
        items: [{ ...at('2026-01-01T00:00:01.000000001Z'), type: 'Normal', reason: 'Pulled', note: 'a' }],
      },
      {
        mark: 'audit',
        items: [
          { ...at('2026-01-01T00:00:03Z'), verb: 'delete', user: { username: 'bob' }, requestURI: '/x' },
        ],
      },
    ]);
    assert.deepEqual(
      rows.map((r) => [r.mark, r.summary]),
      [
        ['event', 'Normal Pulled: a'],
        ['log', 'b'],
        ['log', 'd'],
        ['audit', 'bob delete /x'],
      ],
    );
    assert.equal(rfc3339Ns('2026-01-01T00:00:01.5+01:00'), 1767225601500000000n - 3600_000_000_000n);
  });
});
