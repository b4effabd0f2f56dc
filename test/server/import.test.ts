/**
 * `kjournal import` into a real server: a kubelet pod-log tree and a kube-apiserver audit log,
 * read back with LogQL.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runMain } from '../../src/cli/main.js';
import { allValues, queryRange, removeDir, startServerProcess } from '../helpers/server-process.js';

test('import a pod tree and an audit log, then query them', async () => {
  const server = await startServerProcess();
  const root = await mkdtemp(join(tmpdir(), 'kj-import-'));
  try {
    const now = Date.now();
    const iso = (ms: number, frac: string) => `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
    const container = join(root, 'pods', 'shop_checkout-7d9f8b6c5-x2k4p_0c1d2e3f', 'app');
    await mkdir(container, { recursive: true });
    await writeFile(
      join(container, '0.log'),
      `${[
        `${iso(now - 5000, '123456789')} stdout F order placed`,
        `${iso(now - 4000, '5')} stderr P payment `,
        `${iso(now - 4000, '6')} stderr F timeout`,
      ].join('\n')}\n`,
    );
    await writeFile(
      join(container, '0.log.20261123-100000.gz'),
      gzipSync(`${iso(now - 9000, '000000001')} stdout F rotated line\n`),
    );
    const audit = join(root, 'audit');
    await mkdir(audit);
    const event = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: 'a-1',
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/shop/pods',
      verb: 'create',
      user: { username: 'alice' },
      objectRef: { resource: 'pods', namespace: 'shop', name: 'p1', apiVersion: 'v1' },
      responseStatus: { code: 201 },
      requestReceivedTimestamp: iso(now - 3000, '100000'),
      stageTimestamp: iso(now - 3000, '654321'),
    };
    await writeFile(join(audit, 'audit.log'), `${JSON.stringify(event)}\n`);

    const code = await runMain(['import', join(root, 'pods'), audit, '--server', server.url]);
    assert.equal(code, 0);

    const start = ((BigInt(now) - 60_000n) * 1_000_000n).toString();
    const pods = allValues(
      await queryRange(server.url, { query: '{namespace="shop", container="app"}', start, limit: '100' }),
    );
    assert.deepEqual(
      pods.map((v) => v[1]),
      ['rotated line', 'order placed', 'payment timeout'],
    );
    const msNs = (ms: number) => BigInt(ms) * 1_000_000n;
    assert.equal(
      pods[1]![0],
      (msNs(now - 5000) - (msNs(now - 5000) % 1_000_000_000n) + 123_456_789n).toString(),
    );

    const audits = await queryRange(server.url, {
      query: '{kind="auditevent"} |= "alice"',
      start,
      limit: '10',
    });
    assert.equal(audits.data.result.length, 1);
    const stream = audits.data.result[0]!;
    assert.equal(stream.stream.class, 'audit');
    assert.equal(stream.stream.verb, 'create', 'audit attributes come back as structured metadata');
    assert.equal(
      stream.values[0]![0],
      (msNs(now - 3000) - (msNs(now - 3000) % 1_000_000_000n) + 654_321_000n).toString(),
    );
    assert.deepEqual(JSON.parse(stream.values[0]![1]), event);
  } finally {
    await server.stop();
    await removeDir(server.dataDir);
    await removeDir(root);
  }
});
