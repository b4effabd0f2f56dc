import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type AuthConfig,
  AuthConfigError,
  AuthenticationError,
  authConfigFromFlags,
  createAuth,
} from '../../src/auth/index.js';
import { verifyChain } from '../../src/auth/x509.js';
import { makePki, type Pki } from './pki.js';

let pki: Pki;
before(() => {
  pki = makePki();
});
after(() => pki.cleanup());

interface Reply {
  status: number;
  body: string;
  json?: Record<string, unknown>;
}

/** A real HTTPS server whose handler authenticates and answers with the user (and leftover headers). */
async function serve(config: AuthConfig): Promise<{ port: number; close: () => Promise<void> }> {
  const auth = createAuth(config);
  const server: Server = createServer(auth.tls!, (req, res) => {
    auth.authenticate(req).then(
      (user) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ user, headers: req.headers }));
      },
      (err: unknown) => {
        res.writeHead(err instanceof AuthenticationError ? 401 : 500);
        res.end(String((err as Error).message));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function get(
  port: number,
  opts: {
    cert?: string;
    key?: string;
    headers?: IncomingHttpHeaders | Record<string, string | string[]>;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/whoami',
        ca: pki.ca.cert,
        agent: false,
        ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
        headers: opts.headers as Record<string, string | string[]>,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => {
          const reply: Reply = { status: res.statusCode ?? 0, body };
          if (res.statusCode === 200) reply.json = JSON.parse(body) as Record<string, unknown>;
          resolve(reply);
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function withChain(pair: { cert: string }, ...more: { cert: string }[]): string {
  return [pair.cert, ...more.map((m) => m.cert)].join('');
}

describe('authentication over a real TLS server', () => {
  let port: number;
  let close: () => Promise<void>;
  before(async () => {
    const tokens = join(pki.dir, 'tokens.csv');
    writeFileSync(tokens, 'sekrit,bob,1001,"dev,readers"\nother,eve,1002\n');
    const config = authConfigFromFlags({
      tlsCertFile: pki.server.certFile,
      tlsPrivateKeyFile: pki.server.keyFile,
      clientCaFile: pki.ca.certFile,
      tokenAuthFile: tokens,
      requestheaderClientCaFile: pki.requestHeaderCa.certFile,
      requestheaderAllowedNames: 'front-proxy-client',
    });
    ({ port, close } = await serve(config));
  });
  after(() => close());

  it('accepts a known bearer token and refuses an unknown one with 401', async () => {
    const ok = await get(port, { headers: { authorization: 'Bearer sekrit' } });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json!.user, {
      name: 'bob',
      uid: '1001',
      groups: ['dev', 'readers', 'system:authenticated'],
      extra: {},
    });
    assert.equal((ok.json!.headers as IncomingHttpHeaders).authorization, undefined, 'token removed');
    const bad = await get(port, { headers: { authorization: 'Bearer nope' } });
    assert.equal(bad.status, 401);
    assert.match(bad.body, /invalid bearer token/);
    assert.equal((await get(port)).status, 401, 'no credentials');
    assert.equal((await get(port, { headers: { authorization: 'Basic Ym9iOng=' } })).status, 401);
  });

  it('authenticates a client certificate as CN with O groups', async () => {
    const r = await get(port, { cert: pki.alice.cert, key: pki.alice.key });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json!.user, {
      name: 'alice',
      groups: ['dev', 'ops', 'system:authenticated'],
      extra: {},
    });
  });

  it('follows an intermediate CA the client sends', async () => {
    const r = await get(port, { cert: withChain(pki.carol, pki.intermediateCa), key: pki.carol.key });
    assert.equal(r.status, 200, r.body);
    assert.equal((r.json!.user as { name: string }).name, 'carol');
    const alone = await get(port, { cert: pki.carol.cert, key: pki.carol.key });
    assert.equal(alone.status, 401, 'without the intermediate there is no path to the CA');
  });

  it('refuses a certificate of an unknown CA and one not meant for clients', async () => {
    const r = await get(port, { cert: pki.mallory.cert, key: pki.mallory.key });
    assert.equal(r.status, 401);
    assert.match(r.body, /unknown authority/);
    const s = await get(port, { cert: pki.serverOnly.cert, key: pki.serverOnly.key });
    assert.equal(s.status, 401);
    assert.match(s.body, /client authentication/);
    // A valid token still authenticates next to a bad certificate, as in kube-apiserver.
    const t = await get(port, {
      cert: pki.mallory.cert,
      key: pki.mallory.key,
      headers: { authorization: 'Bearer other' },
    });
    assert.equal((t.json?.user as { name: string } | undefined)?.name, 'eve');
  });

  it('honours front-proxy headers from the requestheader CA with an allowed CN', async () => {
    const r = await get(port, {
      cert: pki.frontProxy.cert,
      key: pki.frontProxy.key,
      headers: {
        'X-Remote-User': 'dana',
        'X-Remote-Group': ['g1', 'g2, with comma'],
        'X-Remote-Extra-Scopes': ['read', 'write'],
        'X-Remote-Extra-Acme.com%2fproject': 'p1',
      },
    });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json!.user, {
      name: 'dana',
      groups: ['g1', 'g2, with comma', 'system:authenticated'],
      extra: { scopes: ['read', 'write'], 'acme.com/project': ['p1'] },
    });
    const left = r.json!.headers as IncomingHttpHeaders;
    assert.equal(left['x-remote-user'], undefined, 'identity headers are consumed');
    assert.equal(left['x-remote-extra-scopes'], undefined);
  });

  it('does not let a plain client certificate impersonate with X-Remote headers', async () => {
    const r = await get(port, {
      cert: pki.alice.cert,
      key: pki.alice.key,
      headers: { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json!.user, {
      name: 'alice',
      groups: ['dev', 'ops', 'system:authenticated'],
      extra: {},
    });
  });

  it('refuses the front proxy with a CN that is not allowed, and an unknown CA with the same headers', async () => {
    const other = await get(port, {
      cert: pki.otherProxy.cert,
      key: pki.otherProxy.key,
      headers: { 'X-Remote-User': 'admin' },
    });
    assert.equal(other.status, 401);
    assert.match(other.body, /cn=other-proxy is not in the allowed list/);
    const rogue = await get(port, {
      cert: pki.mallory.cert,
      key: pki.mallory.key,
      headers: { 'X-Remote-User': 'admin' },
    });
    assert.equal(rogue.status, 401);
    // Headers without a certificate mean nothing at all.
    const bare = await get(port, { headers: { 'X-Remote-User': 'admin', authorization: 'Bearer sekrit' } });
    assert.equal((bare.json!.user as { name: string }).name, 'bob');
  });

  it('a front proxy certificate without X-Remote-User is no user', async () => {
    const r = await get(port, { cert: pki.frontProxy.cert, key: pki.frontProxy.key });
    assert.equal(r.status, 401);
  });
});

describe('loopback mode and start-up checks', () => {
  it('admits everyone as system:anonymous over TLS without authenticators, loopback only', async () => {
    const config = authConfigFromFlags({
      tlsCertFile: pki.server.certFile,
      tlsPrivateKeyFile: pki.server.keyFile,
    });
    const auth = createAuth(config);
    assert.equal(auth.requireLoopback, true);
    assert.match(auth.describe(), /system:anonymous.*loopback/);
    assert.throws(() => auth.checkListen('0.0.0.0'), AuthConfigError);
    assert.throws(() => auth.checkListen('10.1.2.3'), /refusing to listen on 10\.1\.2\.3/);
    for (const h of ['127.0.0.1', '127.3.4.5', '::1', '[::1]', 'localhost']) auth.checkListen(h);
    const { port, close } = await serve(config);
    try {
      const r = await get(port);
      assert.deepEqual(r.json!.user, {
        name: 'system:anonymous',
        groups: ['system:unauthenticated'],
        extra: {},
      });
    } finally {
      await close();
    }
  });

  it('lets a configured server listen anywhere and describes it in one line', () => {
    const tokens = join(pki.dir, 'tokens2.csv');
    writeFileSync(tokens, 't,u,1\n');
    const auth = createAuth(authConfigFromFlags({ tokenAuthFile: tokens }));
    assert.equal(auth.requireLoopback, false);
    auth.checkListen('0.0.0.0');
    assert.equal(auth.tls, undefined);
    assert.doesNotMatch(auth.describe(), /\n/);
    assert.match(auth.describe(), /authentication: token/);
  });

  it('names the file in configuration errors', () => {
    const mismatch = authConfigFromFlags({
      tlsCertFile: pki.server.certFile,
      tlsPrivateKeyFile: pki.alice.keyFile,
    });
    assert.throws(
      () => createAuth(mismatch),
      (e: Error) => e instanceof AuthConfigError && /alice\.key/.test(e.message),
    );
    const notPem = join(pki.dir, 'not-a-ca.pem');
    writeFileSync(notPem, 'hello\n');
    assert.throws(
      () =>
        createAuth(
          authConfigFromFlags({
            tlsCertFile: pki.server.certFile,
            tlsPrivateKeyFile: pki.server.keyFile,
            clientCaFile: notPem,
          }),
        ),
      /--client-ca-file .*not-a-ca\.pem: no PEM certificate/,
    );
    assert.throws(() => authConfigFromFlags({ clientCaFile: pki.ca.certFile }), /needs --tls-cert-file/);
    assert.throws(() => authConfigFromFlags({ tlsCertFile: pki.server.certFile }), /must be given together/);
    assert.throws(
      () => createAuth(authConfigFromFlags({ tokenAuthFile: join(pki.dir, 'missing.csv') })),
      /--token-auth-file .*missing\.csv: cannot read \(no such file\)/,
    );
  });
});

describe('certificate chain checks', () => {
  it('refuses expired and not-yet-valid certificates', () => {
    const alice = new X509Certificate(pki.alice.cert);
    const roots = [new X509Certificate(pki.ca.cert)];
    assert.equal(verifyChain([alice], roots), undefined);
    assert.match(verifyChain([alice], roots, new Date(Date.now() + 30 * 86400e3)) ?? '', /expired/);
    assert.match(verifyChain([alice], roots, new Date(Date.now() - 30 * 86400e3)) ?? '', /not valid before/);
    assert.match(verifyChain([alice], [new X509Certificate(pki.rogueCa.cert)]) ?? '', /unknown authority/);
  });
});
