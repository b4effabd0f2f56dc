/**
 * The gate's decisions before routing (src/api/http/auth-gate.ts), with a stand-in authorizer that
 * records what it is asked: which paths it decides itself and which it leaves to their handler
 * (the Loki API under every prefix, API aggregation's included: a non-resource rule such as
 * `/api*` must never open log data), the tenant it decides and writes back to the header, and that
 * a tenant's check is no decision of the request.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { gateRequest } from '../../../src/api/http/auth-gate.js';
import type { Attributes, Auth, Decision, UserInfo } from '../../../src/auth/index.js';

const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'], extra: {} };

/** An Auth whose user is alice and whose authorizer allows what `allow` says, recording each ask. */
function fakeAuth(allow: (a: Attributes) => boolean) {
  const asked: Attributes[] = [];
  const auth: Auth = {
    authenticate: async () => alice,
    authorize: async (a): Promise<Decision> => {
      asked.push(a);
      return allow(a) ? 'allow' : 'no-opinion';
    },
    describe: () => 'fake',
    requireLoopback: false,
    tls: undefined,
    checkListen: () => {},
  };
  return { auth, asked };
}

function request(method: string, headers: Record<string, string> = {}): IncomingMessage {
  return {
    method,
    headers: { ...headers },
    socket: { remoteAddress: '127.0.0.1' },
  } as unknown as IncomingMessage;
}

const url = (path: string) => new URL(path, 'http://localhost');
const log = () => {};

/** Everyone may get every non-resource path below /api (a reader's discovery rule). */
const discovery = (a: Attributes) => !a.resourceRequest && a.path.startsWith('/api');

describe('the auth gate', () => {
  it('leaves log data to its handler under every prefix, whatever the non-resource rules say', async () => {
    for (const path of [
      '/loki/api/v1/query_range',
      '/loki/api/v1/push',
      '/loki/api/v1/tail',
      '/api/logs/v1/application/loki/api/v1/query',
      '/api/v1/korrel8r/logs',
      '/apis/core.kjournal/v1alpha1/loki/api/v1/query_range',
      '/apis/core.kjournal/v1alpha1/namespaces/shop/loki/api/v1/labels',
      '/apis/core.kjournal/v1alpha1/korrel8r/logs',
      '/ingest/audit',
      '/ingest/events',
    ]) {
      const { auth, asked } = fakeAuth(discovery);
      const r = await gateRequest(request('GET'), url(path), { auth, tenantHeader: true, log });
      assert.ok(r.access, path);
      assert.equal(r.access.decided, false, `${path}: its handler decides`);
      assert.deepEqual(asked, [], path);
    }
  });

  it('decides Kubernetes resources and non-resource paths itself', async () => {
    const { auth, asked } = fakeAuth(discovery);
    let r = await gateRequest(request('GET'), url('/apis/core.kjournal/v1alpha1'), {
      auth,
      tenantHeader: true,
      log,
    });
    assert.equal(r.access?.decided, true);
    r = await gateRequest(request('GET'), url('/metrics'), { auth, tenantHeader: true, log });
    assert.equal(r.refused?.status, 403);
    assert.equal(r.refused?.body, 'forbidden: User "alice" cannot get path "/metrics"\n');
    r = await gateRequest(request('GET'), url('/loki/api/v1/status/buildinfo'), {
      auth,
      tenantHeader: true,
      log,
    });
    assert.equal(r.refused?.status, 403, 'buildinfo is a non-resource path');
    r = await gateRequest(request('GET'), url('/apis/core.kjournal/v1alpha1/namespaces/shop/containerlogs'), {
      auth,
      tenantHeader: true,
      log,
    });
    assert.equal(r.refused?.status, 403);
    assert.equal((JSON.parse(String(r.refused?.body)) as { reason: string }).reason, 'Forbidden');
    assert.deepEqual(
      asked.map((a) => [a.verb, a.resource || a.path, a.namespace ?? '']),
      [
        ['get', '/apis/core.kjournal/v1alpha1', ''],
        ['get', '/metrics', ''],
        ['get', '/loki/api/v1/status/buildinfo', ''],
        ['list', 'containerlogs', 'shop'],
      ],
    );
  });

  it('authorizes a tenant (get to read, create to write), apart from the request, and writes it back', async () => {
    const { auth, asked } = fakeAuth((a) => a.resource === 'tenants' && a.name === 'customer-2');
    const read = request('GET', { 'x-scope-orgid': 'customer-2' });
    let r = await gateRequest(read, url('/loki/api/v1/query_range'), { auth, tenantHeader: true, log });
    assert.equal(r.access?.tenant, 'customer-2');
    assert.equal(r.access?.decided, false, "the tenant's check is not the request's decision");
    assert.equal(read.headers['x-scope-orgid'], 'customer-2');
    r = await gateRequest(
      request('POST', { 'x-scope-orgid': 'customer-2' }),
      url('/api/logs/v1/audit/loki/api/v1/push'),
      {
        auth,
        tenantHeader: true,
        log,
      },
    );
    assert.ok(r.access);
    r = await gateRequest(request('GET', { 'x-scope-orgid': 'customer-3' }), url('/loki/api/v1/labels'), {
      auth,
      tenantHeader: true,
      log,
    });
    assert.equal(r.refused?.status, 403);
    assert.deepEqual(
      asked.map((a) => [a.verb, a.resource, a.name, a.namespace, a.apiGroup]),
      [
        ['get', 'tenants', 'customer-2', '', 'core.kjournal'],
        ['create', 'tenants', 'customer-2', '', 'core.kjournal'],
        ['get', 'tenants', 'customer-3', '', 'core.kjournal'],
      ],
    );
    // The default tenant asks nothing, and leaves no header behind.
    const plain = request('GET', { 'x-scope-orgid': '' });
    r = await gateRequest(plain, url('/loki/api/v1/labels'), { auth, tenantHeader: true, log });
    assert.equal(r.access?.tenant, 'default');
    assert.equal(plain.headers['x-scope-orgid'], undefined);
    assert.equal(asked.length, 3);
  });

  it('without the tenant header, every request is the default tenant and the header is gone', async () => {
    const { auth, asked } = fakeAuth(() => false);
    for (const value of ['customer-2', 'a|b']) {
      const req = request('GET', { 'x-scope-orgid': value });
      const r = await gateRequest(req, url('/loki/api/v1/labels'), { auth, tenantHeader: false, log });
      assert.equal(r.access?.tenant, 'default');
      assert.equal(req.headers['x-scope-orgid'], undefined);
    }
    assert.deepEqual(asked, []);
  });

  it('without auth, everyone is system:anonymous and everything is allowed', async () => {
    const r = await gateRequest(request('GET', { 'x-scope-orgid': 'customer-2' }), url('/metrics'), {
      tenantHeader: true,
      log,
    });
    assert.equal(r.access?.user.name, 'system:anonymous');
    assert.equal(r.access?.tenant, 'customer-2');
    assert.equal(r.access?.decided, true);
    assert.equal(await r.access?.allowed({ verb: 'list', resource: 'auditevents' }), true);
  });
});
