/**
 * @module The `webhook` output against a local HTTP receiver: the contract, the JSON array byte for
 * byte, method, headers and authentication, and statuses.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { describe, test } from 'node:test';
import { Options } from '../../../../src/config/options.js';
import { webhookOutput } from '../../../../src/pipeline/outputs/http/webhook.js';
import { OutputError } from '../../../../src/pipeline/outputs/output.js';
import { contractRecords, outputContract } from '../output-contract.js';
import { type PeerReply, type PeerRequest, peerHarness, startPeerServer } from './peer-server.js';

const ctx = { baseDir: process.cwd() };

/** A receiver that takes a JSON array of records, as the webhook output documents it. */
function receiver(req: PeerRequest): PeerReply {
  if (req.method !== 'POST' && req.method !== 'PUT') return { status: 405 };
  if (req.headers['content-type'] !== 'application/json') return { status: 415 };
  const parsed: unknown = JSON.parse(req.body.toString('utf8'));
  if (!Array.isArray(parsed)) return { status: 400, body: '{"error":"expected an array"}' };
  return { status: 200, body: '{"ok":true}' };
}

function bodiesOf(requests: readonly PeerRequest[]): string[] {
  return requests
    .filter((r) => r.method === 'POST' || r.method === 'PUT')
    .flatMap((r) => (JSON.parse(r.body.toString('utf8')) as { body: string }[]).map((x) => x.body));
}

/** An HTTP server that takes requests and never answers. */
async function silentServer(): Promise<{ server: Server; port: number }> {
  const server = createServer(() => {
    // never answers
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

outputContract(
  'webhook',
  peerHarness(
    receiver,
    (url) => webhookOutput('hook', new Options({ url: `${url}/hook` }, []), ctx),
    (peer) => bodiesOf(peer.requests),
  ),
);

describe('webhook output', () => {
  test('the body is the documented JSON array, byte for byte; PUT, headers and basic auth', async () => {
    const peer = await startPeerServer(receiver);
    const out = webhookOutput(
      'hook',
      new Options(
        {
          url: `${peer.url}/in?x=1`,
          method: 'PUT',
          headers: { 'X-Team': 'a' },
          basicAuth: { username: 'user', password: 'pw' },
        },
        [],
      ),
      ctx,
    );
    try {
      const [r] = contractRecords(['héllo "x"'], 1_714_557_600_000_000_000n);
      await out.send([r!], AbortSignal.timeout(5000));
      const req = peer.requests[0]!;
      assert.equal(req.method, 'PUT');
      assert.equal(req.url, '/in?x=1');
      assert.equal(req.headers['x-team'], 'a');
      assert.equal(req.headers.authorization, `Basic ${Buffer.from('user:pw').toString('base64')}`);
      assert.equal(
        req.body.toString('utf8'),
        '[{"timestamp":"2024-05-01T10:00:00.000000123Z","labels":{"kind":"log","class":"application",' +
          '"namespace":"contract","app":"kjournal-test"},"attributes":{"seq":"0"},"body":"héllo \\"x\\""}]',
      );
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('a bearer token file is read at each send', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'kj-hook-'));
    await writeFile(join(dir, 'token'), 'first\n');
    const peer = await startPeerServer(receiver);
    const out = webhookOutput('hook', new Options({ url: peer.url, bearerTokenFile: 'token' }, []), {
      baseDir: dir,
    });
    try {
      await out.send(contractRecords(['a']), AbortSignal.timeout(5000));
      await writeFile(join(dir, 'token'), 'second\n');
      await out.send(contractRecords(['b']), AbortSignal.timeout(5000));
      assert.deepEqual(
        peer.requests.map((r) => r.headers.authorization),
        ['Bearer first', 'Bearer second'],
      );
    } finally {
      await out.close();
      await peer.close();
      await rm(dir, { recursive: true });
    }
  });

  for (const [status, retryable] of [
    [400, false],
    [404, false],
    [408, true],
    [429, true],
    [502, true],
  ] as const) {
    test(`${status} → retryable=${retryable}`, async () => {
      const peer = await startPeerServer(() => ({ status, body: 'nope' }));
      const out = webhookOutput('hook', new Options({ url: peer.url }, []), ctx);
      try {
        await assert.rejects(out.send(contractRecords(['x']), AbortSignal.timeout(5000)), (err: unknown) => {
          assert.ok(err instanceof OutputError);
          assert.equal(err.retryable, retryable);
          assert.match(err.message, new RegExp(`webhook output "hook" .* answered ${status}: nope`));
          return true;
        });
      } finally {
        await out.close();
        await peer.close();
      }
    });
  }

  test('a peer slower than the timeout is a retryable error', async () => {
    const { server, port } = await silentServer();
    const out = webhookOutput(
      'hook',
      new Options({ url: `http://127.0.0.1:${port}`, timeout: '200ms' }, []),
      ctx,
    );
    try {
      await assert.rejects(out.send(contractRecords(['x']), AbortSignal.timeout(5000)), (err: unknown) => {
        assert.ok(err instanceof OutputError);
        assert.equal(err.retryable, true);
        assert.match(err.message, /no answer in 0.2s/);
        return true;
      });
    } finally {
      await out.close();
      await closeServer(server);
    }
  });

  test('an abort while the request is in flight rejects at once, retryable', async () => {
    const { server, port } = await silentServer();
    const out = webhookOutput('hook', new Options({ url: `http://127.0.0.1:${port}` }, []), ctx);
    try {
      const controller = new AbortController();
      const sending = out.send(contractRecords(['x']), controller.signal);
      setTimeout(() => controller.abort(new Error('flow stopping')), 100);
      await assert.rejects(sending, (err: unknown) => {
        assert.ok(err instanceof OutputError);
        assert.equal(err.retryable, true);
        assert.match(err.message, /send aborted \(flow stopping\)/);
        return true;
      });
    } finally {
      await out.close();
      await closeServer(server);
    }
  });

  test('method must be POST or PUT', () => {
    assert.throws(
      () => webhookOutput('h', new Options({ url: 'http://x', method: 'GET' }, []), ctx),
      /one of POST, PUT/,
    );
  });
});
