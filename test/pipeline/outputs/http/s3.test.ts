/**
 * @module The `s3` output against a real S3 implementation, s3rver (which checks SigV4 signatures):
 * objects are read back over the S3 API (ListObjectsV2, GetObject), gunzipped and compared.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import S3rver from 's3rver';
import { ConfigError, Options, pathText } from '../../../../src/config/options.js';
import {
  objectKey,
  objectUrl,
  type S3Settings,
  s3Output,
  signedHeaders,
} from '../../../../src/pipeline/outputs/http/s3.js';
import { OutputError } from '../../../../src/pipeline/outputs/output.js';
import { contractRecords, outputContract } from '../output-contract.js';
import { type PeerRequest, startPeerServer } from './peer-server.js';

const ctx = { baseDir: process.cwd() };
const BUCKET = 'kjournal-logs';
const KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface S3Peer {
  readonly endpoint: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Keys of the bucket, sorted, and each object's NDJSON lines parsed. */
  objects(): Promise<
    { key: string; lines: { timestamp: string; body: string; labels: Record<string, string> }[] }[]
  >;
  close(): Promise<void>;
}

async function startS3(): Promise<S3Peer> {
  const directory = await mkdtemp(join(tmpdir(), 'kj-s3-'));
  let port = 0;
  let server: S3rver | undefined;
  const start = async () => {
    const s = new S3rver({
      port,
      address: '127.0.0.1',
      silent: true,
      directory,
      configureBuckets: [{ name: BUCKET }],
    });
    port = (await s.run()).port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    s?.httpServer?.closeAllConnections();
    await s?.close();
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  const settings: S3Settings = {
    bucket: BUCKET,
    region: 'us-east-1',
    endpoint: new URL(endpoint),
    forcePathStyle: true,
    credentials: KEYS,
    prefix: '',
  };
  const get = async (url: URL): Promise<Buffer> => {
    const res = await fetch(url, { headers: signedHeaders(settings, 'GET', url, {}, undefined) });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${body.toString()}`);
    return body;
  };
  return {
    endpoint,
    start,
    stop,
    async objects() {
      const list = new URL(`${endpoint}/${BUCKET}?list-type=2`);
      const xml = (await get(list)).toString('utf8');
      const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!).sort();
      const out = [];
      for (const key of keys) {
        const gz = await get(objectUrl(settings, key));
        const text = gunzipSync(gz).toString('utf8');
        assert.ok(text.endsWith('\n'), 'NDJSON ends with a newline');
        out.push({
          key,
          lines: text
            .slice(0, -1)
            .split('\n')
            .map((l) => JSON.parse(l) as { timestamp: string; body: string; labels: Record<string, string> }),
        });
      }
      return out;
    },
    async close() {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** Recomputes a request's SigV4 signature from the specification and compares it. */
function verifySigV4(req: PeerRequest, secret: string, region: string): void {
  const auth = String(req.headers.authorization);
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  assert.ok(m, `Authorization: ${auth}`);
  const [, , date, signedRegion, signedHeaders, signature] = m;
  assert.equal(signedRegion, region);
  assert.equal(req.headers['x-amz-content-sha256'], sha256(req.body));
  const amzDate = String(req.headers['x-amz-date']);
  assert.equal(amzDate.slice(0, 8), date);
  const names = signedHeaders!.split(';');
  assert.ok(names.includes('host') && names.includes('x-amz-date') && names.includes('x-amz-content-sha256'));
  const canonicalHeaders = names.map((n) => `${n}:${String(req.headers[n]).trim()}\n`).join('');
  const [path, query = ''] = req.url.split('?');
  const canonical = ['PUT', path, query, canonicalHeaders, signedHeaders, sha256(req.body)].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region), 's3'), 'aws4_request');
  assert.equal(createHmac('sha256', key).update(toSign).digest('hex'), signature);
}

function s3Options(endpoint: string, extra: Record<string, unknown> = {}) {
  return new Options({ bucket: BUCKET, endpoint, forcePathStyle: true, ...KEYS, ...extra }, ['outputs', 0]);
}

outputContract('s3', async () => {
  const peer = await startS3();
  const output = s3Output('archive', s3Options(peer.endpoint, { prefix: 'logs/' }), ctx);
  return {
    output,
    received: async () => (await peer.objects()).flatMap((o) => o.lines.map((l) => l.body)),
    stopPeer: () => peer.stop(),
    startPeer: () => peer.start(),
    async close() {
      await output.close();
      await peer.close();
    },
  };
});

describe('s3 output', () => {
  test('one gzip NDJSON object per batch under prefix/YYYY/MM/DD/HH/, in record-json lines', async () => {
    const peer = await startS3();
    const out = s3Output('archive', s3Options(peer.endpoint, { prefix: 'cluster-a/' }), ctx);
    try {
      const t = 1_714_557_600_000_000_123n; // 2024-05-01T10:00:00.000000123Z
      await out.send(contractRecords(['x', 'y'], t), AbortSignal.timeout(10_000));
      const objects = await peer.objects();
      assert.equal(objects.length, 1);
      assert.match(
        objects[0]!.key,
        /^cluster-a\/2024\/05\/01\/10\/1714557600000000246-[0-9a-f]{16}\.ndjson\.gz$/,
      );
      assert.deepEqual(objects[0]!.lines[0], {
        timestamp: '2024-05-01T10:00:00.000000246Z',
        labels: { kind: 'log', class: 'application', namespace: 'contract', app: 'kjournal-test' },
        attributes: { seq: '0' },
        body: 'x',
      });
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('sending the same batch again overwrites the same object', async () => {
    const peer = await startS3();
    const out = s3Output('archive', s3Options(peer.endpoint), ctx);
    try {
      const batch = contractRecords(['same']);
      await out.send(batch, AbortSignal.timeout(10_000));
      await out.send(batch, AbortSignal.timeout(10_000));
      assert.equal((await peer.objects()).length, 1);
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('an unknown access key: 403 from the store, not retryable, with its error code', async () => {
    const peer = await startS3();
    const out = s3Output('archive', s3Options(peer.endpoint, { accessKeyId: 'NOBODY' }), ctx);
    try {
      await assert.rejects(out.send(contractRecords(['x']), AbortSignal.timeout(10_000)), (err: unknown) => {
        assert.ok(err instanceof OutputError);
        assert.equal(err.retryable, false);
        assert.match(err.message, /answered 403: InvalidAccessKeyId/);
        return true;
      });
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('a missing bucket: 404 NoSuchBucket, not retryable', async () => {
    const peer = await startS3();
    const out = s3Output(
      'archive',
      new Options({ bucket: 'other-bucket', endpoint: peer.endpoint, forcePathStyle: true, ...KEYS }, []),
      ctx,
    );
    try {
      await assert.rejects(out.send(contractRecords(['x']), AbortSignal.timeout(10_000)), (err: unknown) => {
        assert.ok(err instanceof OutputError);
        assert.equal(err.retryable, false);
        assert.match(err.message, /404: NoSuchBucket/);
        return true;
      });
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('the PUT carries a valid AWS Signature V4 (checked by an independent computation)', async () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const peer = await startPeerServer(() => ({ status: 200 }));
    const out = s3Output(
      'archive',
      new Options(
        {
          bucket: 'bk1',
          endpoint: peer.url,
          forcePathStyle: true,
          region: 'eu-west-1',
          accessKeyId: 'AKIDEXAMPLE',
          secretAccessKey: secret,
          prefix: 'a b/',
        },
        [],
      ),
      ctx,
    );
    try {
      await out.send(contractRecords(['signed']), AbortSignal.timeout(5000));
      const req = peer.requests[0]!;
      assert.equal(req.method, 'PUT');
      assert.match(req.url, /^\/bk1\/a%20b\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d+-[0-9a-f]{16}\.ndjson\.gz$/);
      assert.equal(req.headers['content-type'], 'application/gzip');
      assert.equal(gunzipSync(req.body).toString('utf8').split('\n').length, 2);
      verifySigV4(req, secret, 'eu-west-1');
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('virtual-hosted and path-style URLs; keys are percent-encoded per segment', () => {
    const s: S3Settings = {
      bucket: 'b1',
      region: 'eu-west-1',
      endpoint: new URL('https://s3.eu-west-1.amazonaws.com'),
      forcePathStyle: false,
      credentials: KEYS,
      prefix: '',
    };
    assert.equal(objectUrl(s, 'a b/c+d.gz').href, 'https://b1.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd.gz');
    assert.equal(
      objectUrl({ ...s, forcePathStyle: true }, 'k/x.gz').href,
      'https://s3.eu-west-1.amazonaws.com/b1/k/x.gz',
    );
    const [r] = contractRecords(['a'], 1_714_557_600_000_000_000n);
    assert.match(
      objectKey('p/', r!, 'a\n'),
      /^p\/2024\/05\/01\/10\/1714557600000000123-[0-9a-f]{16}\.ndjson\.gz$/,
    );
  });

  test('credentials are required; the default endpoint is AWS for the region', () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      assert.throws(
        () => s3Output('a', new Options({ bucket: BUCKET }, ['outputs', 1]), ctx),
        (err: unknown) => err instanceof ConfigError && pathText(err.path) === 'outputs[1].accessKeyId',
      );
      assert.throws(
        () => s3Output('a', new Options({ bucket: 'Bad_Bucket', ...KEYS }, []), ctx),
        /not a valid bucket name/,
      );
      assert.ok(s3Output('a', new Options({ bucket: BUCKET, region: 'eu-west-1', ...KEYS }, []), ctx));
    } finally {
      if (saved.id !== undefined) process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret !== undefined) process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });
});
