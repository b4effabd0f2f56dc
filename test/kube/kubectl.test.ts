/**
 * End-to-end with the real kubectl (v1.32) against the real `kjournal serve` process over TLS with
 * a bearer token (kube-apiserver's token file, an ABAC policy that lets the user read everything):
 * discovery, get/list of every resource, selectors, every output format, explain, watch and
 * readable errors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makePki, type Pki } from '../auth/pki.js';
import { removeDir, type ServerProcess, startServerProcess, trustServer } from '../helpers/server-process.js';
import {
  auditEvent,
  coreEvent,
  KUBECTL,
  kubectl,
  kubectlEnv,
  nsNow,
  pushAuditEvent,
  pushContainerLogs,
  pushCoreEvent,
  pushNodeLog,
  writeKubeconfig,
} from './helpers.js';

const TOKEN = 'kubectl-test-token';

describe('kubectl against core.kjournal, over TLS with a token', () => {
  let pki: Pki;
  let srv: ServerProcess;
  let kubeconfig: string;
  let home: string;
  const k = (...args: string[]) => kubectl(kubeconfig, args, home);
  const ok = async (...args: string[]): Promise<string> => {
    const r = await k(...args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    pki = makePki();
    home = await mkdtemp(join(tmpdir(), 'kj-kubectl-home-'));
    await writeFile(join(home, 'tokens.csv'), `${TOKEN},tester,1000,"readers"\n`);
    const policy = [
      { user: 'tester', readonly: true, nonResourcePath: '*' },
      { user: 'tester', namespace: '*', resource: '*', apiGroup: '*' },
      { user: 'tester', namespace: '*', resource: 'auditevents', apiGroup: 'core.kjournal' },
    ].map((spec) =>
      JSON.stringify({ apiVersion: 'abac.authorization.kubernetes.io/v1beta1', kind: 'Policy', spec }),
    );
    await writeFile(join(home, 'policy.jsonl'), `${policy.join('\n')}\n`);
    srv = await startServerProcess({
      args: [
        '--kube-list-window',
        '1h',
        '--tls-cert-file',
        pki.server.certFile,
        '--tls-private-key-file',
        pki.server.keyFile,
        '--token-auth-file',
        join(home, 'tokens.csv'),
        '--authorization-policy-file',
        join(home, 'policy.jsonl'),
      ],
    });
    assert.match(srv.url, /^https:/);
    trustServer(srv.url, pki.ca.cert, { authorization: `Bearer ${TOKEN}` });
    kubeconfig = await writeKubeconfig(srv.url, { caFile: pki.ca.certFile, token: TOKEN });
    await pushContainerLogs(srv.url, [
      {
        namespace: 'shop',
        pod: 'checkout-1',
        container: 'app',
        app: 'checkout',
        line: '{"level":"error","msg":"payment timeout"}',
      },
      {
        namespace: 'shop',
        pod: 'checkout-1',
        container: 'app',
        app: 'checkout',
        line: '{"level":"info","msg":"payment ok"}',
      },
      {
        namespace: 'shop',
        pod: 'web-1',
        container: 'nginx',
        app: 'web',
        line: 'GET /index.html 200',
        stream: 'stderr',
      },
      { namespace: 'billing', pod: 'invoice-1', container: 'app', app: 'invoice', line: 'invoice sent' },
    ]);
    const now = nsNow();
    // Older than the list window (1 h here): found only with a time field selector.
    await pushContainerLogs(srv.url, [
      {
        namespace: 'archive',
        pod: 'old-1',
        container: 'app',
        app: 'old',
        line: 'two hours ago',
        ts: now - 7_200_000_000_000n,
      },
    ]);
    await pushCoreEvent(
      srv.url,
      coreEvent(
        'checkout-1.a',
        'shop',
        'checkout-1',
        'BackOff',
        'Warning',
        'Back-off restarting failed container',
        now - 60_000_000_000n,
      ),
    );
    await pushCoreEvent(
      srv.url,
      coreEvent(
        'web-1.b',
        'shop',
        'web-1',
        'Pulled',
        'Normal',
        'Container image pulled',
        now - 30_000_000_000n,
      ),
    );
    await pushAuditEvent(
      srv.url,
      auditEvent('a-1', 'delete', 'alice', 'pods', 200, now - 5_000_000_000n),
      now - 5_000_000_000n,
    );
    await pushAuditEvent(
      srv.url,
      auditEvent('a-2', 'get', 'bob', 'secrets', 403, now - 4_000_000_000n),
      now - 4_000_000_000n,
    );
    await pushNodeLog(srv.url, 'node-1', 'journal', 'kubelet: Started kubelet');
  });

  after(async () => {
    await srv?.stop();
    if (srv) await removeDir(srv.dataDir);
    if (home) await rm(home, { recursive: true, force: true });
    pki?.cleanup();
  });

  test('api-resources lists the group with short names', async () => {
    const out = await ok('api-resources', '--api-group=core.kjournal');
    for (const [name, short, namespaced, kind] of [
      ['containerlogs', 'clog', 'true', 'ContainerLog'],
      ['events', 'kev', 'true', 'Event'],
      ['auditevents', 'kaudit', 'false', 'AuditEvent'],
    ]) {
      assert.match(
        out,
        new RegExp(`^${name}\\s+${short}\\s+core.kjournal/v1alpha1\\s+${namespaced}\\s+${kind}$`, 'm'),
      );
    }
    assert.match(out, /^logs\s+core.kjournal\/v1alpha1\s+false\s+Log$/m);
  });

  test('get containerlogs -A, -n, -l, --field-selector, by name', async () => {
    const all = await ok('get', 'containerlogs', '-A');
    assert.match(all, /^NAMESPACE\s+TIME\s+POD\s+CONTAINER\s+MESSAGE$/m);
    assert.equal(all.trim().split('\n').length, 5);
    assert.match(all, /shop\s+\S+\s+checkout-1\s+app\s+payment timeout/);
    assert.match(all, /billing\s+\S+\s+invoice-1\s+app\s+invoice sent/);

    const shop = await ok('get', 'clog', '-n', 'shop');
    assert.equal(shop.trim().split('\n').length, 4);
    assert.doesNotMatch(shop, /invoice/);

    const web = await ok('get', 'containerlogs', '-A', '-l', 'app=web');
    assert.match(web, /web-1\s+nginx\s+GET \/index.html 200/);
    assert.equal(web.trim().split('\n').length, 2);
    const notWeb = await ok('get', 'containerlogs', '-A', '-l', 'app notin (web,checkout)');
    assert.match(notWeb, /invoice sent/);
    assert.equal(notWeb.trim().split('\n').length, 2);

    const errors = await ok(
      'get',
      'containerlogs',
      '-A',
      '--field-selector',
      'pod=checkout-1,payload.level=error',
    );
    assert.match(errors, /payment timeout/);
    assert.doesNotMatch(errors, /payment ok/);

    const names = (await ok('get', 'containerlogs', '-n', 'shop', '-o', 'name')).trim().split('\n');
    assert.equal(names.length, 3);
    assert.ok(names.every((n) => n.startsWith('containerlog.core.kjournal/')));
    const one = names.find((n) => n.includes('/web-1.'))!;
    const yaml = await ok('get', '-n', 'shop', one, '-o', 'yaml');
    assert.match(yaml, /^kind: ContainerLog$/m);
    assert.match(yaml, /^pod: web-1$/m);
    assert.match(yaml, /^stream: stderr$/m);
    assert.match(yaml, /core.kjournal\/timestamp: "?\d{4}-\d\d-\d\dT[\d:]+\.\d+Z/);
    const missing = await k('get', 'containerlogs', '-n', 'shop', 'web-1.1.1');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /NotFound|not found/);
  });

  test('output formats: json, yaml, wide, jsonpath, custom-columns', async () => {
    const list = JSON.parse(await ok('get', 'containerlogs', '-n', 'shop', '-o', 'json')) as {
      items: { metadata: { name: string; labels: Record<string, string> }; payload: unknown; pod: string }[];
    };
    assert.equal(list.items.length, 3);
    assert.deepEqual(list.items[0]!.payload, { level: 'error', msg: 'payment timeout' });
    assert.deepEqual(list.items[0]!.metadata.labels, { app: 'checkout' });
    const yaml = await ok('get', 'containerlogs', '-n', 'billing', '-o', 'yaml');
    assert.match(yaml, /payload: invoice sent/);
    const wide = await ok('get', 'containerlogs', '-n', 'shop', '-o', 'wide');
    assert.match(wide, /^TIME\s+POD\s+CONTAINER\s+MESSAGE\s+NAME\s+NODE\s+STREAM$/m);
    assert.match(wide, /GET \/index.html 200\s+web-1\.\d+\.\d+\s+node-1\s+stderr/);
    const jp = await ok(
      'get',
      'containerlogs',
      '-n',
      'shop',
      '-o',
      'jsonpath={range .items[*]}{.pod}/{.payload.level}{"\\n"}{end}',
    );
    assert.deepEqual(jp.trim().split('\n'), ['checkout-1/error', 'checkout-1/info', 'web-1/']);
    const cc = await ok(
      'get',
      'containerlogs',
      '-A',
      '-o',
      'custom-columns=NS:.metadata.namespace,POD:.pod,LEVEL:.payload.level',
    );
    assert.match(cc, /^NS\s+POD\s+LEVEL$/m);
    assert.match(cc, /^shop\s+checkout-1\s+error$/m);
    assert.match(cc, /^billing\s+invoice-1\s+<none>$/m);
  });

  test('events, audit events and node logs', async () => {
    const ev = await ok('get', 'events', '-n', 'shop');
    assert.match(ev, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/m);
    assert.match(ev, /\d+s\s+Warning\s+BackOff\s+pod\/checkout-1\s+Back-off restarting failed container/);
    assert.match(ev, /Normal\s+Pulled\s+pod\/web-1/);
    const warn = await ok('get', 'kev', '-A', '--field-selector', 'type=Warning', '-o', 'json');
    const items = (JSON.parse(warn) as { items: Record<string, unknown>[] }).items;
    assert.equal(items.length, 1);
    assert.equal(items[0]!.note, 'Back-off restarting failed container');
    assert.equal(items[0]!.reportingController, 'kubelet');
    assert.deepEqual((items[0]!.regarding as Record<string, unknown>).name, 'checkout-1');

    const audit = await ok('get', 'auditevents');
    assert.match(audit, /^RECEIVED\s+VERB\s+RESOURCE\s+USER\s+CODE\s+STAGE$/m);
    assert.match(audit, /delete\s+pods\s+alice\s+200\s+ResponseComplete/);
    const denied = await ok(
      'get',
      'kaudit',
      '--field-selector',
      'responseStatus.code=403',
      '-o',
      'jsonpath={.items[*].user.username}',
    );
    assert.equal(denied, 'bob');
    const bobs = await ok('get', 'kaudit', '--field-selector', 'user.username=bob,verb=get', '-o', 'name');
    assert.equal(bobs.trim().split('\n').length, 1);

    const logs = await ok('get', 'logs');
    assert.match(logs, /^TIME\s+NODE\s+SOURCE\s+MESSAGE$/m);
    assert.match(logs, /node-1\s+journal\s+kubelet: Started kubelet/);
  });

  test('explain describes the resource and its fields', async () => {
    const out = await ok('explain', 'containerlogs');
    assert.match(out, /KIND:\s+ContainerLog/);
    for (const f of ['pod', 'container', 'node', 'stream', 'payload', 'metadata'])
      assert.match(out, new RegExp(`^  ${f}\\s`, 'm'));
    const field = await ok('explain', 'containerlogs.payload');
    assert.match(field, /parsed JSON object/);
    const audit = await ok('explain', 'auditevents.user');
    assert.match(audit, /username/);
  });

  test('readable errors for unsupported or malformed selectors', async () => {
    const r = await k('get', 'containerlogs', '-A', '--field-selector', 'spec.nodeName=node-1');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /BadRequest/);
    assert.match(r.stderr, /field label not supported: "spec.nodeName"/);
    const t = await k(
      'get',
      'containerlogs',
      '-A',
      '--field-selector',
      'metadata.creationTimestamp>=yesterday',
    );
    assert.notEqual(t.code, 0);
    assert.match(t.stderr, /invalid time/);
    const l = await k('get', 'containerlogs', '-A', '-l', 'app in (web');
    assert.notEqual(l.code, 0);
    assert.match(l.stderr, /unable to parse|label selector/);
  });

  test('the list window (--kube-list-window) and time field selectors', async () => {
    const r = await k('get', 'containerlogs', '-n', 'archive');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /No resources found in archive namespace/);
    const wide = await ok(
      'get',
      'containerlogs',
      '-n',
      'archive',
      '--field-selector',
      'metadata.creationTimestamp>=-3h',
    );
    assert.match(wide, /old-1\s+app\s+two hours ago/);
    const since = new Date(Date.now() - 3 * 3_600_000).toISOString();
    const until = new Date(Date.now() - 3_600_000).toISOString();
    const range = `metadata.creationTimestamp>=${since},metadata.creationTimestamp<=${until}`;
    const bounded = await ok('get', 'containerlogs', '-A', '--field-selector', range, '-o', 'name');
    assert.equal(bounded.trim().split('\n').length, 1);
    const none = await ok(
      'get',
      'containerlogs',
      '-A',
      '--field-selector',
      'metadata.creationTimestamp>=+1h',
      '-o',
      'name',
    );
    assert.equal(none.trim(), '');
  });

  test('get -w shows a line pushed after it started', async () => {
    const child = spawn(
      KUBECTL,
      ['--kubeconfig', kubeconfig, 'get', 'containerlogs', '-n', 'billing', '-w'],
      {
        env: kubectlEnv(home),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const until = async (pred: () => boolean, ms: number, what: string) => {
      const deadline = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${out} ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until(() => out.includes('invoice sent'), 10_000, 'the list');
      const pushedAt = Date.now();
      await pushContainerLogs(srv.url, [
        {
          namespace: 'billing',
          pod: 'invoice-2',
          container: 'app',
          app: 'invoice',
          line: 'late invoice',
          ts: nsNow(),
        },
        {
          namespace: 'shop',
          pod: 'web-1',
          container: 'nginx',
          app: 'web',
          line: 'other namespace',
          ts: nsNow(),
        },
      ]);
      await until(() => out.includes('late invoice'), 5_000, 'the pushed line');
      assert.ok(Date.now() - pushedAt < 3_000, 'delivered promptly');
      assert.match(out, /invoice-2\s+app\s+late invoice/);
      assert.doesNotMatch(out, /other namespace/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
