/**
 * deploy/overlays/clickhouse/ (issue 16), as `kubectl kustomize` renders it offline: kjournal as a
 * Deployment of 2 replicas whose pod template is the base StatefulSet's, with ClickHouse's URL and
 * user from Secret kjournal-clickhouse and its password as a mounted file of it. And the ClickHouse
 * server snippets shipped beside it, loaded by a real clickhouse-server 18.16: config.d/kjournal.xml
 * makes parts ZSTD, users.d/kjournal.xml.example gives a user that can run kjournal's database.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { startClickHouse } from '../helpers/clickhouse.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const OVERLAY = join(ROOT, 'deploy', 'overlays', 'clickhouse');
const SNIPPETS = join(OVERLAY, 'clickhouse-server');
const KUBECTL = process.env.KUBECTL ?? 'kubectl';

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read as plain JSON.
type Obj = any;

function render(dir: string): Obj[] {
  const r = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `kubectl kustomize ${dir}: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJSON() as Obj);
}

const find = (objs: Obj[], kind: string, name: string): Obj | undefined =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);

test('the clickhouse overlay runs 2 replicas of a Deployment that reads ClickHouse from a Secret', () => {
  const objs = render(OVERLAY);
  const base = render(join(ROOT, 'deploy'));
  assert.equal(find(objs, 'StatefulSet', 'kjournal'), undefined, 'the embedded store workload is gone');
  assert.equal(find(objs, 'Service', 'kjournal-headless'), undefined);
  assert.ok(find(objs, 'Service', 'kjournal'), 'the Service the APIService points at stays');
  assert.ok(find(objs, 'APIService', 'v1alpha1.core.kjournal'));
  const dep = find(objs, 'Deployment', 'kjournal');
  assert.ok(dep);
  assert.equal(dep.spec.replicas, 2);
  assert.equal(dep.metadata.labels['app.kubernetes.io/part-of'], 'kjournal');
  const pod = dep.spec.template.spec;
  const sts = find(base, 'StatefulSet', 'kjournal').spec.template.spec;
  // The template is the base's: the same selector labels, init container and security context.
  assert.deepEqual(dep.spec.selector.matchLabels, dep.spec.template.metadata.labels);
  assert.deepEqual(pod.initContainers, sts.initContainers);
  assert.deepEqual(pod.securityContext, sts.securityContext);
  assert.equal(pod.serviceAccountName, 'kjournal');

  const c = pod.containers[0];
  assert.deepEqual(c.args.slice(0, sts.containers[0].args.length), sts.containers[0].args);
  for (const flag of [
    '--clickhouse-url=$(CLICKHOUSE_URL)',
    '--clickhouse-user=$(CLICKHOUSE_USER)',
    '--clickhouse-password-file=/etc/kjournal/clickhouse/password',
    '--clickhouse-database=$(CLICKHOUSE_DATABASE)',
  ]) {
    assert.ok(c.args.includes(flag), flag);
  }
  const env = (name: string) => c.env.find((e: Obj) => e.name === name)?.valueFrom;
  assert.deepEqual(env('CLICKHOUSE_URL'), { secretKeyRef: { name: 'kjournal-clickhouse', key: 'url' } });
  assert.deepEqual(env('CLICKHOUSE_USER'), { secretKeyRef: { name: 'kjournal-clickhouse', key: 'user' } });
  // The database's ConfigMap is generated (hash suffix): its reference follows the name.
  const dbRef = env('CLICKHOUSE_DATABASE').configMapKeyRef;
  assert.equal(find(objs, 'ConfigMap', dbRef.name).data[dbRef.key], 'kjournal');
  // The password is a file of the Secret, never in the environment or the command line.
  const mount = c.volumeMounts.find((m: Obj) => m.mountPath === '/etc/kjournal/clickhouse');
  assert.equal(mount.readOnly, true);
  const vol = pod.volumes.find((v: Obj) => v.name === mount.name);
  assert.deepEqual(vol.secret.items, [{ key: 'password', path: 'password' }]);
  assert.equal(vol.secret.secretName, 'kjournal-clickhouse');
  assert.ok(!c.env.some((e: Obj) => e.valueFrom?.secretKeyRef?.key === 'password'));
  // --data is local state only: an emptyDir, no claim.
  const data = pod.volumes.find((v: Obj) => v.name === 'data');
  assert.ok(data.emptyDir);
  assert.equal(dep.spec.template.spec.volumeClaimTemplates, undefined);
});

/** A column file's compression method byte: 0x82 LZ4, 0x90 ZSTD (after the 16-byte checksum). */
async function methodOfParts(ch: { url: string; dir: string }, auth: Record<string, string> = {}) {
  const q = async (sql: string) => {
    const r = await fetch(ch.url, { method: 'POST', body: sql, headers: auth });
    const text = await r.text();
    assert.equal(r.status, 200, `${sql}: ${text}`);
    return text;
  };
  await q('CREATE DATABASE IF NOT EXISTS kjournal');
  await q('CREATE TABLE kjournal.t (d Date, x UInt64) ENGINE = MergeTree PARTITION BY d ORDER BY x');
  await q("INSERT INTO kjournal.t SELECT toDate('2026-01-01'), number FROM system.numbers LIMIT 1000");
  const part = (
    await q("SELECT name FROM system.parts WHERE database = 'kjournal' AND table = 't' AND active")
  ).trim();
  return (await readFile(join(ch.dir, 'data', 'data', 'kjournal', 't', part, 'x.bin')))[16];
}

test("deploy's config.d/kjournal.xml makes clickhouse-server 18.16 write ZSTD parts (LZ4 without it)", async () => {
  const plain = await startClickHouse({ configD: [] });
  try {
    assert.equal(await methodOfParts(plain), 0x82, 'LZ4 by default');
  } finally {
    await plain.stop();
  }
  const ch = await startClickHouse({ configD: [join(SNIPPETS, 'config.d', 'kjournal.xml')] });
  try {
    assert.equal(await methodOfParts(ch), 0x90, 'ZSTD with the snippet');
  } finally {
    await ch.stop();
  }
});

test("deploy's users.d example gives a user that runs kjournal's database and nothing else", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-users-d-'));
  try {
    const password = 'secret pass';
    const example = await readFile(join(SNIPPETS, 'users.d', 'kjournal.xml.example'), 'utf8');
    const file = join(dir, 'kjournal.xml');
    await writeFile(
      file,
      example.replace('REPLACE-WITH-SHA256-HEX', createHash('sha256').update(password).digest('hex')),
    );
    const ch = await startClickHouse({ usersD: [file] });
    try {
      const auth = { 'X-ClickHouse-User': 'kjournal', 'X-ClickHouse-Key': password };
      assert.equal(await methodOfParts(ch, auth), 0x90);
      const other = await fetch(ch.url, {
        method: 'POST',
        body: 'SELECT count() FROM default.none',
        headers: auth,
      });
      assert.notEqual(other.status, 200);
      assert.match(
        await other.text(),
        /Access denied to database default|ACCESS_DENIED|Not enough privileges/,
      );
      const wrong = await fetch(ch.url, {
        method: 'POST',
        body: 'SELECT 1',
        headers: { ...auth, 'X-ClickHouse-Key': 'wrong' },
      });
      assert.notEqual(wrong.status, 200);
    } finally {
      await ch.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
