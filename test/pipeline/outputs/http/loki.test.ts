/**
 * @module The `loki` and `kjournal` outputs against a real kjournal server (which speaks Loki's push
 * and query APIs), plus the wire format byte for byte and the mapping of labels and metadata.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import snappy from 'snappy';
import { Options } from '../../../../src/config/options.js';
import { decodePushRequest } from '../../../../src/ingest/loki-push/proto.js';
import type { LogRecord } from '../../../../src/model/record.js';
import { kjournalOutput } from '../../../../src/pipeline/outputs/http/kjournal.js';
import { lokiOutput } from '../../../../src/pipeline/outputs/http/loki.js';
import { OutputError, type OutputFactory } from '../../../../src/pipeline/outputs/output.js';
import { makePki } from '../../../auth/pki.js';
import { contractRecords, outputContract } from '../output-contract.js';
import { startKjournalPeer } from './kjournal-peer.js';
import { type PeerRequest, startPeerServer } from './peer-server.js';

const ctx = { baseDir: process.cwd() };

function harness(factory: OutputFactory, extra: Record<string, unknown> = {}) {
  return async () => {
    const peer = await startKjournalPeer();
    const output = factory('peer', new Options({ url: peer.url, ...extra }, ['outputs', 0]), ctx);
    return {
      output,
      received: () => peer.bodies(undefined, typeof extra.tenant === 'string' ? extra.tenant : undefined),
      stopPeer: () => peer.stop(),
      startPeer: () => peer.start(),
      async close() {
        await output.close();
        await peer.close();
      },
    };
  };
}

outputContract('loki', harness(lokiOutput));
outputContract('kjournal', harness(kjournalOutput, { tenant: 'team-a' }));

describe('kjournal output', () => {
  test('labels and attributes arrive unchanged, in the tenant given', async () => {
    const peer = await startKjournalPeer();
    const out = kjournalOutput('k', new Options({ url: peer.url, tenant: 'team-a' }, []), ctx);
    try {
      const records = contractRecords(['one', 'two']);
      await out.send(records, AbortSignal.timeout(10_000));
      const streams = await peer.streams('{app="kjournal-test"}', 'team-a');
      // Results split streams by structured metadata (as Loki 3 does); each carries the labels unchanged.
      assert.ok(streams.length > 0);
      for (const s of streams) assert.deepEqual({ ...s.stream, ...records[0]!.labels }, s.stream);
      // The default tenant holds nothing.
      assert.deepEqual(await peer.bodies('{app="kjournal-test"}'), []);
      // Attributes came as structured metadata: a label filter on them matches.
      assert.deepEqual(await peer.bodies('{app="kjournal-test"} | seq="1"', 'team-a'), ['two']);
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('label options are not accepted', () => {
    assert.throws(
      () => kjournalOutput('k', new Options({ url: 'http://x', labels: { a: 'b' } }, ['outputs', 2]), ctx),
      /outputs\[2\]|unknown field "labels"/,
    );
  });
});

/** A Loki stand-in answering every push with `reply`'s status and text; `got` holds the requests. */
async function fakeLoki(reply: (c: PeerRequest) => [number, string]) {
  const peer = await startPeerServer((c) => {
    const [status, body] = reply(c);
    return { status, body, contentType: 'text/plain' };
  });
  return { url: peer.url, got: peer.requests, close: () => peer.close() };
}

describe('loki output: wire format', () => {
  test('POST /loki/api/v1/push, snappy protobuf, tenant and bearer token, streams by label set', async () => {
    const peer = await fakeLoki(() => [204, '']);
    const out = lokiOutput(
      'l',
      new Options(
        {
          url: `${peer.url}/prefix/`,
          tenant: 'tenant-1',
          bearerToken: 's3cret',
          labels: { cluster: 'east' },
          labelsFrom: { pod: 'pod_name', level: 'labels.app' },
          headers: { 'X-Extra': 'yes' },
        },
        [],
      ),
      ctx,
    );
    try {
      const t0 = 1_700_000_000_123_456_789n;
      const records: LogRecord[] = [
        { ...contractRecords(['a'], t0)[0]!, attributes: { pod_name: 'p-1', trace_id: 't1' } },
        { ...contractRecords(['b'], t0 + 1n)[0]!, attributes: { pod_name: 'p-2' } },
        { ...contractRecords(['c'], t0 + 2n)[0]!, attributes: { pod_name: 'p-1' } },
      ];
      await out.send(records, AbortSignal.timeout(5000));
      assert.equal(peer.got.length, 1);
      const c = peer.got[0]!;
      assert.equal(c.method, 'POST');
      assert.equal(c.url, '/prefix/loki/api/v1/push');
      assert.equal(c.headers['content-type'], 'application/x-protobuf');
      assert.equal(c.headers['x-scope-orgid'], 'tenant-1');
      assert.equal(c.headers.authorization, 'Bearer s3cret');
      assert.equal(c.headers['x-extra'], 'yes');
      assert.equal(c.headers['content-encoding'], undefined);
      const streams = decodePushRequest(snappy.uncompressSync(c.body) as Buffer);
      assert.deepEqual(
        streams.map((s) => s.labelsText),
        [
          '{app="kjournal-test", class="application", cluster="east", kind="log", level="kjournal-test", namespace="contract", pod="p-1"}',
          '{app="kjournal-test", class="application", cluster="east", kind="log", level="kjournal-test", namespace="contract", pod="p-2"}',
        ],
      );
      assert.deepEqual(streams[0]!.entries, [
        { timestamp: t0 + 123n, line: 'a', metadata: { trace_id: 't1' } },
        { timestamp: t0 + 2n + 123n, line: 'c', metadata: undefined },
      ]);
      assert.deepEqual(streams[1]!.entries, [{ timestamp: t0 + 1n + 123n, line: 'b', metadata: undefined }]);
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('keepLabels: false and structuredMetadata: false send only the configured labels', async () => {
    const peer = await fakeLoki(() => [204, '']);
    const out = lokiOutput(
      'l',
      new Options(
        {
          url: peer.url,
          keepLabels: false,
          structuredMetadata: false,
          labels: { job: 'k' },
          basicAuth: { username: 'u', password: 'p' },
        },
        [],
      ),
      ctx,
    );
    try {
      await out.send(contractRecords(['x']), AbortSignal.timeout(5000));
      const c = peer.got[0]!;
      assert.equal(c.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
      const streams = decodePushRequest(snappy.uncompressSync(c.body) as Buffer);
      assert.equal(streams[0]!.labelsText, '{job="k"}');
      assert.equal(streams[0]!.entries[0]!.metadata, undefined);
    } finally {
      await out.close();
      await peer.close();
    }
  });

  for (const [status, retryable] of [
    [400, false],
    [401, false],
    [413, false],
    [429, true],
    [500, true],
    [503, true],
  ] as const) {
    test(`${status} → OutputError retryable=${retryable} with Loki's message`, async () => {
      const peer = await fakeLoki(() => [status, 'entry too far behind']);
      const out = lokiOutput('l', new Options({ url: peer.url }, []), ctx);
      try {
        await assert.rejects(out.send(contractRecords(['x']), AbortSignal.timeout(5000)), (err: unknown) => {
          assert.ok(err instanceof OutputError);
          assert.equal(err.retryable, retryable);
          assert.match(err.message, new RegExp(`${status}: entry too far behind`));
          return true;
        });
      } finally {
        await out.close();
        await peer.close();
      }
    });
  }

  test('a real server rejects a too long line: not retryable', async () => {
    const peer = await startKjournalPeer(['--max-line-size', '1KB']);
    const out = lokiOutput('l', new Options({ url: peer.url }, []), ctx);
    try {
      await assert.rejects(
        out.send(contractRecords(['y'.repeat(5000)]), AbortSignal.timeout(10_000)),
        (err: unknown) => {
          assert.ok(err instanceof OutputError);
          assert.equal(err.retryable, false);
          assert.match(err.message, /400/);
          return true;
        },
      );
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('https: the CA file verifies the server; without it the send fails; insecureSkipVerify skips the check', async () => {
    const pki = makePki();
    const peer = await startKjournalPeer([
      '--tls-cert-file',
      pki.server.certFile,
      '--tls-private-key-file',
      pki.server.keyFile,
    ]);
    const make = (tls: Record<string, unknown>) =>
      lokiOutput('l', new Options({ url: peer.url, tls }, []), { baseDir: pki.dir });
    const verified = make({ caFile: pki.ca.certFile });
    const unverified = make({});
    const insecure = make({ insecureSkipVerify: true });
    try {
      assert.match(peer.url, /^https:/);
      await verified.send(contractRecords(['over tls']), AbortSignal.timeout(10_000));
      await insecure.send(contractRecords(['insecure']), AbortSignal.timeout(10_000));
      await assert.rejects(
        unverified.send(contractRecords(['x']), AbortSignal.timeout(10_000)),
        (err: unknown) => {
          assert.ok(err instanceof OutputError);
          assert.match(err.message, /certificate/);
          return true;
        },
      );
    } finally {
      for (const o of [verified, unverified, insecure]) await o.close();
      await peer.close();
      pki.cleanup();
    }
  });

  test('bad options are ConfigErrors naming the field', () => {
    assert.throws(() => lokiOutput('l', new Options({}, ['outputs', 1]), ctx), /is required/);
    assert.throws(() => lokiOutput('l', new Options({ url: 'ftp://x' }, []), ctx), /http:\/\/ or https:\/\//);
    assert.throws(
      () => lokiOutput('l', new Options({ url: 'http://x', labels: { 'a-b': 'c' } }, []), ctx),
      /not valid/,
    );
    assert.throws(
      () => lokiOutput('l', new Options({ url: 'http://x', tiemout: '1s' }, []), ctx),
      /unknown field "tiemout"/,
    );
    assert.throws(
      () =>
        lokiOutput(
          'l',
          new Options({ url: 'http://x', bearerToken: 'a', basicAuth: { username: 'u', password: 'p' } }, []),
          ctx,
        ),
      /one of/,
    );
    assert.throws(
      () =>
        lokiOutput('l', new Options({ url: 'http://x', tls: { caFile: '/nonexistent/ca.pem' } }, []), ctx),
      /cannot read/,
    );
  });
});
