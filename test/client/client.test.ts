import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KjournalClient, type PushStream } from '../../src/client/client.js';
import type { Connection } from '../../src/client/connection.js';
import { ClientError } from '../../src/client/errors.js';
import { parseWarningHeader } from '../../src/client/kube.js';
import { backoffMs, isRetryableError } from '../../src/client/retry.js';
import { closedPort, type Reply, startServer } from './server.js';
import { TEST_CERT } from './tls-fixture.js';

const FAST = { retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 } };

function conn(server: string, extra: Partial<Connection> = {}): Connection {
  return { server: new URL(server), insecureSkipTlsVerify: false, source: 'test', ...extra };
}

const STREAMS: PushStream[] = [
  {
    stream: { namespace: 'ns1', pod: 'p', kind: 'containerlog' },
    values: [
      ['1795341600123456789', 'hello', { pod_uid: 'u1' }],
      ['1795341600123456790', 'world'],
    ],
  },
];

describe('KjournalClient', () => {
  const clients: KjournalClient[] = [];
  const client = (c: Connection, opts = {}) => {
    const k = new KjournalClient(c, { ...FAST, ...opts });
    clients.push(k);
    return k;
  };
  after(() => {
    for (const c of clients) c.close();
  });

  it('pushes gzip JSON with the bearer token and the tenant header', async () => {
    const srv = await startServer();
    try {
      await client(conn(srv.url, { token: 's3cret', tenant: 'team-a' })).push(STREAMS);
      assert.equal(srv.requests.length, 1);
      const r = srv.requests[0]!;
      assert.equal(r.method, 'POST');
      assert.equal(r.url, '/loki/api/v1/push');
      assert.equal(r.headers.authorization, 'Bearer s3cret');
      assert.equal(r.headers['x-scope-orgid'], 'team-a');
      assert.equal(r.headers['content-encoding'], 'gzip');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(r.body.toString()), { streams: STREAMS });
    } finally {
      await srv.close();
    }
  });

  it('sends no tenant or authorization header when none is set', async () => {
    const srv = await startServer();
    try {
      await client(conn(srv.url)).push(STREAMS);
      const r = srv.requests[0]!;
      assert.equal(r.headers.authorization, undefined);
      assert.equal(r.headers['x-scope-orgid'], undefined);
    } finally {
      await srv.close();
    }
  });

  it('keeps the server URL path as a prefix and encodes the query', async () => {
    const srv = await startServer(() => ({ status: 200, body: '{"ok":true}' }));
    try {
      const res = await client(conn(`${srv.url}/proxy/kjournal/`)).request('GET', '/loki/api/v1/labels', {
        query: { start: 1, match: ['{a="b"}', '{c="d"}'], skip: undefined },
      });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), '{"ok":true}');
      assert.equal(
        srv.requests[0]!.url,
        `/proxy/kjournal/loki/api/v1/labels?start=1&match=${encodeURIComponent('{a="b"}')}&match=${encodeURIComponent('{c="d"}')}`,
      );
    } finally {
      await srv.close();
    }
  });

  it('retries 503 and 429, then succeeds', async () => {
    const srv = await startServer((_r, i) =>
      i === 0
        ? { status: 503, body: 'ingester busy' }
        : i === 1
          ? { status: 429, body: 'slow down' }
          : undefined,
    );
    const retries: string[] = [];
    try {
      await client(conn(srv.url), { onRetry: (x: { reason: string }) => retries.push(x.reason) }).push(
        STREAMS,
      );
      assert.equal(srv.requests.length, 3);
      assert.deepEqual(retries, ['503 ingester busy', '429 slow down']);
      // Every attempt carries the whole batch.
      for (const r of srv.requests) assert.deepEqual(JSON.parse(r.body.toString()), { streams: STREAMS });
    } finally {
      await srv.close();
    }
  });

  it('gives up after the last attempt on persistent 5xx', async () => {
    const srv = await startServer(() => ({ status: 500, body: 'disk full' }));
    try {
      await assert.rejects(client(conn(srv.url)).push(STREAMS), (err: unknown) => {
        assert.ok(err instanceof ClientError);
        assert.equal(err.status, 500);
        assert.match(err.message, /push failed: HTTP 500: disk full/);
        return true;
      });
      assert.equal(srv.requests.length, 4);
    } finally {
      await srv.close();
    }
  });

  it('does not retry a 4xx and reports the server message', async () => {
    const srv = await startServer(() => ({
      status: 400,
      body: 'stream labels are invalid\n',
    }));
    try {
      await assert.rejects(client(conn(srv.url)).push(STREAMS), (err: unknown) => {
        assert.ok(err instanceof ClientError);
        assert.equal(err.status, 400);
        assert.equal(err.message, 'server rejected push: HTTP 400: stream labels are invalid');
        return true;
      });
      assert.equal(srv.requests.length, 1);
    } finally {
      await srv.close();
    }
  });

  it('counts what the server stored and refused: its headers, or a plain Loki 204 or 400', async () => {
    const tooOld = `entry for stream '{a="b"}' has timestamp too old: 2020-01-01T00:00:00Z, oldest acceptable timestamp is: 2026-11-30T00:00:00Z`;
    const tooNew = `entry for stream '{a="b"}' has timestamp too new: 2263-01-01T00:00:00Z`;
    const replies: Reply[] = [
      // kjournal: the headers are the count, whatever the body says.
      {
        status: 400,
        body: `${tooNew}\n`,
        headers: {
          'x-kjournal-entries-stored': '0',
          'x-kjournal-entries-duplicate': '1',
          'x-kjournal-entries-refused': 'too_new=1',
        },
      },
      { status: 204, headers: { 'x-kjournal-entries-stored': '1', 'x-kjournal-entries-duplicate': '1' } },
      // A plain Loki: 204 is "all taken", a 400 is read from its grouped messages.
      { status: 204 },
      { status: 400, body: `1 errors like: ${tooOld}; 1 errors like: ${tooNew}\n` },
      { status: 400, body: `${tooOld}\n` },
    ];
    const srv = await startServer((_, i) => replies[i]);
    try {
      const c = client(conn(srv.url));
      const got = [];
      for (let i = 0; i < replies.length; i++) got.push(await c.push(STREAMS));
      assert.deepEqual(
        got.map((o) => [o.stored, o.duplicates, o.refused, o.estimated]),
        [
          [0, 1, { too_new: 1 }, false],
          [1, 1, {}, false],
          [2, 0, {}, false],
          [0, 0, { too_old: 1, too_new: 1 }, true],
          [1, 0, { too_old: 1 }, true],
        ],
      );
      assert.equal(got[0]!.message, tooNew);
      assert.equal(srv.requests.length, replies.length, 'a 400 that stored the rest is not retried');
    } finally {
      await srv.close();
    }
  });

  it('reads the message of a Kubernetes Status body', async () => {
    const srv = await startServer(() => ({
      status: 403,
      body: JSON.stringify({ kind: 'Status', message: 'tenant "x" may not write', code: 403 }),
    }));
    try {
      await assert.rejects(client(conn(srv.url)).push(STREAMS), /HTTP 403: tenant "x" may not write/);
    } finally {
      await srv.close();
    }
  });

  it('retries refused connections and then says it cannot reach the server', async () => {
    const port = await closedPort();
    const reasons: string[] = [];
    const c = client(conn(`http://127.0.0.1:${port}`), {
      onRetry: (x: { reason: string }) => reasons.push(x.reason),
    });
    await assert.rejects(c.push(STREAMS), (err: unknown) => {
      assert.ok(err instanceof ClientError);
      assert.equal(err.status, undefined);
      assert.match(err.message, /cannot push to http:\/\/127\.0\.0\.1:\d+\/: .*ECONNREFUSED/);
      return true;
    });
    assert.equal(reasons.length, 3);
  });

  it('talks TLS with a CA, and with verification skipped', async () => {
    const srv = await startServer(undefined, true);
    try {
      await client(conn(srv.url, { ca: Buffer.from(TEST_CERT) })).push(STREAMS);
      await client(conn(srv.url, { insecureSkipTlsVerify: true })).push(STREAMS);
      assert.equal(srv.requests.length, 2);
    } finally {
      await srv.close();
    }
  });

  it('fails at once, without retrying, when the certificate is not trusted', async () => {
    const srv = await startServer(undefined, true);
    const reasons: string[] = [];
    try {
      const c = client(conn(srv.url), { onRetry: (x: { reason: string }) => reasons.push(x.reason) });
      await assert.rejects(c.push(STREAMS), /self-signed|self signed|unable to verify/i);
      assert.deepEqual(reasons, []);
    } finally {
      await srv.close();
    }
  });
});

describe('retry policy', () => {
  it('grows exponentially with jitter, capped, and honours Retry-After', () => {
    const p = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(
      backoffMs(p, 0, undefined, () => 0),
      50,
    );
    assert.equal(
      backoffMs(p, 0, undefined, () => 1),
      100,
    );
    assert.equal(
      backoffMs(p, 2, undefined, () => 0),
      200,
    );
    assert.equal(
      backoffMs(p, 10, undefined, () => 1),
      1000,
    );
    assert.equal(
      backoffMs(p, 0, 0.5, () => 0),
      500,
    );
    assert.equal(
      backoffMs(p, 0, 60, () => 0),
      1000,
    );
  });

  it('retries connection errors but not certificate errors', () => {
    assert.equal(isRetryableError(Object.assign(new Error('x'), { code: 'ECONNRESET' })), true);
    assert.equal(isRetryableError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), true);
    assert.equal(
      isRetryableError(Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })),
      false,
    );
    assert.equal(
      isRetryableError(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })),
      false,
    );
  });
});

describe('Warning headers (the core.kjournal client prints them as kubectl does)', () => {
  it('reads every warning of a header, unescaping its quotes', () => {
    assert.deepEqual(parseWarningHeader(undefined), []);
    assert.deepEqual(parseWarningHeader('299 - "one"'), ['one']);
    assert.deepEqual(parseWarningHeader('299 - "a \\"quoted\\" word", 299 - "two, with a comma"'), [
      'a "quoted" word',
      'two, with a comma',
    ]);
    assert.deepEqual(parseWarningHeader(['299 - "x"', '299 kjournal "y" "Sat, 01 Jan 2000 00:00:00 GMT"']), [
      'x',
      'y',
    ]);
  });
});
