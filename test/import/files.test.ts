import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { podLogMeta } from '../../src/formats/pod-path.js';
import { detectFormat } from '../../src/import/detect.js';
import { collectFiles, compareFiles } from '../../src/import/files.js';
import { readLines } from '../../src/import/lines.js';

const dir = mkdtempSync(join(tmpdir(), 'kjournal-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('pod log paths', () => {
  it('reads namespace, pod, uid, container and restart count from /var/log/pods', () => {
    const uid = '0b5b1d9e-7c55-4a5e-8c1e-3f2b6f0c9d11';
    assert.deepEqual(podLogMeta(`/var/log/pods/kube-system_coredns-5d78c9869d-abcde_${uid}/coredns/3.log`), {
      namespace: 'kube-system',
      pod: 'coredns-5d78c9869d-abcde',
      uid,
      container: 'coredns',
      restartCount: 3,
    });
    assert.equal(
      podLogMeta(`/x/shop_web-1.example_${uid}/app/0.log.20261123-100000.gz`)?.pod,
      'web-1.example',
    );
    assert.equal(podLogMeta(`/x/shop_web-1_${uid}/app/0.log.20261123-100000`)?.restartCount, 0);
    // Static pods have a hash for uid.
    assert.equal(
      podLogMeta('/p/kube-system_etcd-node-a_9f86d081884c7d659a2feaa0c55ad015/etcd/0.log')?.uid,
      '9f86d081884c7d659a2feaa0c55ad015',
    );
  });

  it('reads /var/log/containers names, and nothing from other paths', () => {
    const id = 'a'.repeat(64);
    assert.deepEqual(podLogMeta(`/var/log/containers/web-1_shop_app-${id}.log`), {
      namespace: 'shop',
      pod: 'web-1',
      container: 'app',
      containerId: id,
    });
    assert.equal(podLogMeta('/var/log/audit/audit.log'), undefined);
    assert.equal(podLogMeta('/var/log/pods/notapoddir/app/0.log'), undefined);
    assert.equal(podLogMeta('/tmp/app/0.log'), undefined);
  });
});

describe('file order and walking', () => {
  it('orders rotated files before the live one, restarts in order', () => {
    const names = [
      '/p/c/1.log',
      '/p/c/0.log',
      '/p/c/0.log.20261123-110000',
      '/p/c/0.log.20261123-100000.gz',
      '/p/c/10.log',
      '/a/audit.log',
      '/a/audit-2026-11-23T11-00-00.000.log.gz',
      '/a/audit-2026-11-23T10-00-00.000.log',
      '/s/syslog',
      '/s/syslog.1',
      '/s/syslog.2.gz',
    ];
    assert.deepEqual([...names].sort(compareFiles), [
      '/a/audit-2026-11-23T10-00-00.000.log',
      '/a/audit-2026-11-23T11-00-00.000.log.gz',
      '/a/audit.log',
      '/p/c/0.log.20261123-100000.gz',
      '/p/c/0.log.20261123-110000',
      '/p/c/0.log',
      '/p/c/1.log',
      '/p/c/10.log',
      '/s/syslog.2.gz',
      '/s/syslog.1',
      '/s/syslog',
    ]);
  });

  it('walks directories, reads each file once through links, skips hidden and .tmp files', async () => {
    const pods = join(dir, 'pods', 'shop_web-1_u1', 'app');
    mkdirSync(pods, { recursive: true });
    writeFileSync(join(pods, '0.log'), 'x\n');
    writeFileSync(join(pods, '0.log.20261123-100000.gz.tmp'), 'x\n');
    writeFileSync(join(pods, '.hidden'), 'x\n');
    const containers = join(dir, 'containers');
    mkdirSync(containers);
    symlinkSync(join(pods, '0.log'), join(containers, `web-1_shop_app-${'b'.repeat(64)}.log`));
    symlinkSync(join(pods, 'gone.log'), join(containers, 'dangling.log'));
    const files = await collectFiles([dir]);
    assert.deepEqual(
      files.map((f) => relative(dir, f.realPath)),
      [join('pods', 'shop_web-1_u1', 'app', '0.log')],
    );
    await assert.rejects(
      collectFiles([join(dir, 'nope')]),
      /cannot import .*nope: no such file or directory/,
    );
  });
});

describe('reading lines', () => {
  it('reads gzip by its magic, splits on \\n only, keeps \\r, takes a last line without newline', async () => {
    const p = join(dir, 'x.log.1');
    writeFileSync(p, gzipSync('\ufeffa\r\nprogress 10%\rprogress 100%\nlast'));
    const lines: (string | null)[] = [];
    let bytes = 0;
    for await (const batch of readLines(p, (n) => {
      bytes += n;
    })) {
      lines.push(...batch);
    }
    assert.deepEqual(lines, ['a\r', 'progress 10%\rprogress 100%', 'last']);
    assert.ok(bytes > 0);
  });

  it('fails on a truncated gzip file after the lines it could read', async () => {
    const p = join(dir, 'cut.gz');
    const whole = gzipSync(`${'line\n'.repeat(10000)}`);
    writeFileSync(p, whole.subarray(0, whole.length - 20));
    let n = 0;
    await assert.rejects(async () => {
      for await (const batch of readLines(p, () => {})) n += batch.length;
    }, /unexpected end of file/);
    assert.ok(n > 0 && n <= 10000);
  });

  it('drops a line over the limit as null and goes on', async () => {
    const p = join(dir, 'long.txt');
    writeFileSync(p, `short\n${'y'.repeat(100)}\nafter\n${'z'.repeat(50)}`);
    const lines: (string | null)[] = [];
    for await (const batch of readLines(p, () => {}, 40)) lines.push(...batch);
    assert.deepEqual(lines, ['short', null, 'after', null]);
  });
});

describe('format detection', () => {
  it('tells formats apart from the first lines', () => {
    assert.equal(detectFormat(['2026-11-23T10:00:00.1Z stdout F hi'], false), 'cri');
    assert.equal(detectFormat(['', '2026-11-23T10:00:00Z stderr P'], false), 'cri');
    assert.equal(
      detectFormat(['{"log":"hi\\n","stream":"stdout","time":"2026-11-23T10:00:00Z"}'], false),
      'docker',
    );
    assert.equal(
      detectFormat(['{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"x"}'], false),
      'audit',
    );
    assert.equal(detectFormat(['{"kind":"Event","apiVersion":"v1","involvedObject":{}}'], false), 'events');
    assert.equal(detectFormat(['{"verb":"ADDED","event":{"involvedObject":{}}}'], false), 'events');
    assert.equal(detectFormat(['{"kind":"EventList","items":[]}'], false), 'events');
    assert.equal(
      detectFormat(['{', '  "apiVersion": "v1",', '  "items": [', '    {', '      "kind": "Event",'], false),
      'events',
    );
    assert.equal(detectFormat(['{"level":"info","msg":"x"}'], false), 'json');
    assert.equal(detectFormat(['level=info msg=x'], false), 'logfmt');
    assert.equal(detectFormat(['plain text'], false), 'logfmt');
    // In a pod tree, anything that is not docker is CRI (malformed lines get reported there).
    assert.equal(detectFormat(['{"level":"info"}'], true), 'cri');
    assert.equal(detectFormat(['{"log":"x\\n","time":"2026-11-23T10:00:00Z"}'], true), 'docker');
  });
});
