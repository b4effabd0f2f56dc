import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { KjournalClient } from '../../src/client/client.js';
import { resolveConnection } from '../../src/client/connection.js';
import { ClientError } from '../../src/client/errors.js';
import { addConnectionOptions, type ConnectionFlags } from '../../src/client/options.js';
import { startServer } from './server.js';
import { TEST_CERT } from './tls-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'kjournal-conn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CA_B64 = Buffer.from(TEST_CERT).toString('base64');

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

write('token.txt', 'file-token\n');
write('ca.pem', 'CA FROM FILE');
const KUBECONFIG = write(
  'kubeconfig.yaml',
  `apiVersion: v1
kind: Config
current-context: prod
clusters:
  - name: prod-cluster
    cluster:
      server: https://kjournal.prod.example:8443
      certificate-authority-data: ${CA_B64}
  - name: dev-cluster
    cluster:
      server: https://dev.example:6443/api/v1/namespaces/kjournal/services/kjournal:3100/proxy
      certificate-authority: ca.pem
      tls-server-name: kjournal.dev
  - name: lab-cluster
    cluster:
      server: https://lab.example
      insecure-skip-tls-verify: true
contexts:
  - name: prod
    context: { cluster: prod-cluster, user: prod-user }
  - name: dev
    context: { cluster: dev-cluster, user: dev-user }
  - name: lab
    context: { cluster: lab-cluster, user: lab-user }
  - name: broken
    context: { cluster: nowhere, user: prod-user }
users:
  - name: prod-user
    user: { token: prod-token }
  - name: dev-user
    user: { tokenFile: token.txt }
  - name: lab-user
    user:
      client-certificate-data: ${Buffer.from('CERT').toString('base64')}
      client-key-data: ${Buffer.from('KEY').toString('base64')}
`,
);

describe('resolveConnection', () => {
  it('defaults to the local server with no kubeconfig around', async () => {
    const c = await resolveConnection({}, {});
    assert.equal(c.server.href, 'http://127.0.0.1:3100/');
    assert.equal(c.token, undefined);
    assert.equal(c.tenant, undefined);
    assert.equal(c.insecureSkipTlsVerify, false);
  });

  it('takes flags as given', async () => {
    const c = await resolveConnection(
      {
        server: 'https://k.example:3100',
        token: 't',
        tenant: 'team',
        certificateAuthority: join(dir, 'ca.pem'),
      },
      {},
    );
    assert.equal(c.server.href, 'https://k.example:3100/');
    assert.equal(c.token, 't');
    assert.equal(c.tenant, 'team');
    assert.equal(c.ca?.toString(), 'CA FROM FILE');
  });

  it('reads the current context: server, token and CA data', async () => {
    const c = await resolveConnection({ kubeconfig: KUBECONFIG }, {});
    assert.equal(c.server.href, 'https://kjournal.prod.example:8443/');
    assert.equal(c.token, 'prod-token');
    assert.equal(c.ca?.toString(), TEST_CERT);
    assert.equal(c.source, 'kubeconfig context prod');
  });

  it('selects --context: token file and CA file relative to the kubeconfig, tls-server-name', async () => {
    const c = await resolveConnection({ kubeconfig: KUBECONFIG, context: 'dev' }, {});
    assert.equal(
      c.server.href,
      'https://dev.example:6443/api/v1/namespaces/kjournal/services/kjournal:3100/proxy',
    );
    assert.equal(c.token, 'file-token');
    assert.equal(c.ca?.toString(), 'CA FROM FILE');
    assert.equal(c.tlsServerName, 'kjournal.dev');
  });

  it('reads insecure-skip-tls-verify and client certificates', async () => {
    const c = await resolveConnection({ kubeconfig: KUBECONFIG, context: 'lab' }, {});
    assert.equal(c.insecureSkipTlsVerify, true);
    assert.equal(c.cert?.toString(), 'CERT');
    assert.equal(c.key?.toString(), 'KEY');
    assert.equal(c.token, undefined);
  });

  it('lets flags win over the kubeconfig', async () => {
    const c = await resolveConnection(
      {
        kubeconfig: KUBECONFIG,
        server: 'http://127.0.0.1:9',
        token: 'flag-token',
        insecureSkipTlsVerify: true,
      },
      {},
    );
    assert.equal(c.server.href, 'http://127.0.0.1:9/');
    assert.equal(c.token, 'flag-token');
    assert.equal(c.insecureSkipTlsVerify, true);
    assert.equal(c.ca, undefined, 'an explicit --insecure-skip-tls-verify drops the kubeconfig CA');
  });

  it('uses KUBECONFIG only when --server is not given', async () => {
    const fromEnv = await resolveConnection({}, { KUBECONFIG });
    assert.equal(fromEnv.server.host, 'kjournal.prod.example:8443');
    const explicit = await resolveConnection({ server: 'http://10.0.0.1:3100' }, { KUBECONFIG });
    assert.equal(explicit.server.host, '10.0.0.1:3100');
    assert.equal(explicit.token, undefined);
  });

  it('merges a KUBECONFIG list first-wins and skips missing entries', async () => {
    const first = write(
      'first.yaml',
      `current-context: mine
contexts: [{ name: mine, context: { cluster: prod-cluster, user: me } }]
users: [{ name: me, user: { token: mine-token } }, { name: prod-user, user: { token: shadowed } }]
`,
    );
    const c = await resolveConnection(
      {},
      { KUBECONFIG: [join(dir, 'missing.yaml'), first, KUBECONFIG].join(':') },
    );
    assert.equal(c.server.host, 'kjournal.prod.example:8443');
    assert.equal(c.token, 'mine-token');
    // The first file's prod-user shadows the second's, as with kubectl.
    const p = await resolveConnection({ context: 'prod' }, { KUBECONFIG: `${first}:${KUBECONFIG}` });
    assert.equal(p.token, 'shadowed');
  });

  it('runs an exec credential plugin', async () => {
    const plugin = write(
      'plugin.mjs',
      `const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
process.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: 'ExecCredential',
  status: { token: 'exec-' + process.env.EXTRA + '-' + process.argv[2] } }));`,
    );
    const kc = write(
      'exec.yaml',
      `current-context: c
clusters: [{ name: k, cluster: { server: 'http://127.0.0.1:1' } }]
contexts: [{ name: c, context: { cluster: k, user: u } }]
users:
  - name: u
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: ${process.execPath}
        args: [${JSON.stringify(plugin)}, arg1]
        env: [{ name: EXTRA, value: x }]
`,
    );
    const c = await resolveConnection({ kubeconfig: kc }, {});
    assert.equal(c.token, 'exec-x-arg1');
  });

  const failsWith = async (flags: ConnectionFlags, re: RegExp, env: NodeJS.ProcessEnv = {}) =>
    assert.rejects(resolveConnection(flags, env), (err: unknown) => {
      assert.ok(err instanceof ClientError, String(err));
      assert.match(err.message, re);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });

  it('reports a missing kubeconfig, an unknown context and a dangling cluster in one line', async () => {
    await failsWith(
      { kubeconfig: join(dir, 'nope.yaml') },
      /cannot read kubeconfig .*nope\.yaml: no such file/,
    );
    await failsWith(
      { kubeconfig: KUBECONFIG, context: 'staging' },
      /context "staging" not found in kubeconfig/,
    );
    await failsWith(
      { kubeconfig: KUBECONFIG, context: 'broken' },
      /cluster "nowhere" of context "broken" not found/,
    );
    await failsWith({ context: 'prod' }, /no kubeconfig found/, { KUBECONFIG: join(dir, 'missing.yaml') });
    await failsWith({ server: 'ftp://x' }, /must be http:\/\/ or https:\/\//);
    await failsWith(
      { certificateAuthority: join(dir, 'ca.pem'), insecureSkipTlsVerify: true },
      /cannot be used together/,
    );
    await failsWith({ certificateAuthority: join(dir, 'nope.pem') }, /cannot read --certificate-authority/);
  });

  it('connects over TLS with the CA data of a kubeconfig', async () => {
    const srv = await startServer(undefined, true);
    try {
      const kc = write(
        'tls.yaml',
        `current-context: t
clusters: [{ name: k, cluster: { server: '${srv.url}', certificate-authority-data: ${CA_B64} } }]
contexts: [{ name: t, context: { cluster: k, user: u } }]
users: [{ name: u, user: { token: tls-token } }]
`,
      );
      const client = new KjournalClient(await resolveConnection({ kubeconfig: kc, tenant: 'acme' }, {}));
      try {
        await client.push([{ stream: { a: 'b' }, values: [['1', 'x']] }]);
      } finally {
        client.close();
      }
      assert.equal(srv.requests[0]?.headers.authorization, 'Bearer tls-token');
      assert.equal(srv.requests[0]?.headers['x-scope-orgid'], 'acme');
    } finally {
      await srv.close();
    }
  });
});

describe('addConnectionOptions', () => {
  it('adds the flags under their commander names, with no default server', () => {
    const cmd = addConnectionOptions(new Command('x').exitOverride());
    cmd.parse(
      [
        '--server',
        'https://s',
        '--token',
        't',
        '--certificate-authority',
        'ca.pem',
        '--kubeconfig',
        'kc',
        '--context',
        'c',
        '--tenant',
        'team',
        '--insecure-skip-tls-verify',
      ],
      { from: 'user' },
    );
    assert.deepEqual(cmd.opts(), {
      server: 'https://s',
      token: 't',
      certificateAuthority: 'ca.pem',
      kubeconfig: 'kc',
      context: 'c',
      tenant: 'team',
      insecureSkipTlsVerify: true,
    });
    const bare = addConnectionOptions(new Command('y').exitOverride());
    bare.parse([], { from: 'user' });
    assert.deepEqual(bare.opts(), {});
  });
});
