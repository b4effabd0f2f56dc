/**
 * `POST /upload` parsed in a decode worker (api/receivers/decode-pool.ts `openStream`,
 * api/receivers/decode-journal.ts): the same answers (status, text, entry-count headers) and the
 * same stored records as when parsed inline, for bodies with binary fields, corrupt entries, Kata
 * entries and entries cut across the pieces sent to the worker; a worker that dies mid-upload
 * makes a 503 and the next upload is stored; a request that fails or is aborted leaves nothing in
 * the worker; a pool of size 0, a full pool and a small body parse inline.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { Router } from '../../../src/api/http/router.js';
import { registerJournalUploadApi } from '../../../src/api/journal-upload/routes.js';
import { JOURNAL_PIECE_BYTES } from '../../../src/api/journal-upload/upload.js';
import { JournalStreams } from '../../../src/api/receivers/decode-journal.js';
import { DecodePool, DecodeWorkerError } from '../../../src/api/receivers/decode-pool.js';
import { Intake } from '../../../src/api/receivers/intake.js';
import { ProtocolCounter, receiverCounters } from '../../../src/api/receivers/metrics.js';
import { RequestAccess } from '../../../src/auth/access.js';
import { ANONYMOUS_USER } from '../../../src/auth/types.js';
import { DEFAULT_PUSH_LIMITS } from '../../../src/formats/loki-push/index.js';
import { SetInterner } from '../../../src/model/intern.js';
import type { Labels, LogRecord } from '../../../src/model/record.js';
import { until } from './helpers.js';

const TYPE = 'application/vnd.fdo.journal';
const baseUs = BigInt(Date.now() - 60_000) * 1000n;

function binary(name: string, value: Buffer): Buffer {
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(value.length));
  return Buffer.concat([Buffer.from(`${name}\n`), size, value, Buffer.from('\n')]);
}

/** One entry: text fields, and binary-safe ones for Buffers. */
function entry(fields: [string, string | Buffer][], last = false): Buffer {
  const parts = fields.map(([k, v]) => (typeof v === 'string' ? Buffer.from(`${k}=${v}\n`) : binary(k, v)));
  if (!last) parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

/**
 * An upload of `n` ordinary entries over three hosts (some with binary messages: newlines, a NUL,
 * a byte that is not UTF-8), a binary field that no record keeps, Kata entries in logfmt and JSON,
 * a corrupt entry, one without a time, and a last entry without its empty line.
 */
function uploadBody(n: number, tag: string, opts: { big?: number } = {}): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const us = String(baseUs + BigInt(i));
    const common: [string, string | Buffer][] = [
      ['__CURSOR', `s=abc;i=${i};b=590edcee`],
      ['__REALTIME_TIMESTAMP', us],
      ['__MONOTONIC_TIMESTAMP', String(i)],
      ['_BOOT_ID', '590edceeef5545a784ec8c6181a10400'],
      ['_HOSTNAME', `${tag}-node-${i % 3}`],
      ['SYSLOG_IDENTIFIER', i % 4 === 0 ? 'kubelet' : 'containerd'],
      ['_SYSTEMD_UNIT', i % 4 === 0 ? 'kubelet.service' : 'containerd.service'],
      ['PRIORITY', String(i % 7)],
    ];
    if (i === opts.big) {
      out.push(entry([...common, ['MESSAGE', `big ${'b'.repeat(150_000)}`]]));
    } else if (i % 50 === 7) {
      const msg = Buffer.concat([
        Buffer.from(`${tag} binary ${i}\nsecond line\0`),
        Buffer.from([0xff, 0x41]),
      ]);
      out.push(entry([...common, ['MESSAGE', msg], ['COREDUMP', Buffer.from('x\ny\n\nz')]]));
    } else if (i % 97 === 11) {
      out.push(
        entry([
          ...common.filter(([k]) => k !== 'SYSLOG_IDENTIFIER'),
          ['SYSLOG_IDENTIFIER', 'kata-runtime'],
          [
            'MESSAGE',
            `time="2026-01-01T00:00:00Z" level=info msg="a \\"quoted\\" word ${i}" sandbox=s${i % 5} source=virtcontainers`,
          ],
        ]),
      );
    } else if (i % 97 === 12) {
      out.push(
        entry([
          ...common.filter(([k]) => k !== 'SYSLOG_IDENTIFIER'),
          ['SYSLOG_IDENTIFIER', 'kata'],
          ['MESSAGE', JSON.stringify({ level: 'warn', msg: `json ${i}`, nested: { pid: i } })],
        ]),
      );
    } else if (i === 333) {
      out.push(entry([['bad name!', 'x'], ...common]));
    } else if (i === 444) {
      out.push(entry(common.filter(([k]) => k !== '__REALTIME_TIMESTAMP')));
    } else {
      out.push(entry([...common, ['MESSAGE', `${tag} line ${i} ${'ü'.repeat(i % 40)}`]], i === n - 1));
    }
  }
  return Buffer.concat(out);
}

/** `body` in chunks of odd sizes, cycling (an entry cut anywhere, pieces cut anywhere). */
function oddChunks(body: Buffer, sizes = [1, 7, 4093, 65_537, 13, 30_011]): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0, k = 0; off < body.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(body.subarray(off, off + n));
    off += n;
  }
  return out;
}

const byTime = (records: LogRecord[]) =>
  [...records].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));

/** A journal that keeps what it is given. */
class KeepingJournal {
  readonly records: LogRecord[] = [];
  failNext = false;
  admitWrite(): void {}
  async write(_tenant: string, records: LogRecord[]) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('the store failed');
    }
    this.records.push(...records);
    return { stored: records.length, duplicates: 0 };
  }
}

/** A journal-upload route with its own intake and journal, and `pool` (or none). */
function uploadRoute(pool: DecodePool | undefined, maxBodyBytes = 64 << 20) {
  const journal = new KeepingJournal();
  const router = new Router();
  registerJournalUploadApi(router, {
    intake: new Intake({ journal: journal as never, limits: DEFAULT_PUSH_LIMITS }),
    counter: new ProtocolCounter(receiverCounters(new Registry()), 'journal-upload'),
    maxBodyBytes,
    now: () => 1_000n,
    ...(pool ? { decodePool: pool } : {}),
  });
  const m = router.matchPath('/upload')!;
  const access = new RequestAccess(ANONYMOUS_USER, 'default', '/upload', async () => 'allow');
  /** The route's answer to `chunks` (chunked: no Content-Length, unless `length`). */
  const call = async (chunks: Iterable<Buffer> | AsyncIterable<Buffer>, length?: number) => {
    const req = Object.assign(Readable.from(chunks), {
      method: 'POST',
      headers: {
        'content-type': TYPE,
        ...(length !== undefined ? { 'content-length': String(length) } : {}),
      },
    });
    const ctx = {
      req,
      url: new URL('http://x/upload'),
      params: new URLSearchParams(),
      pathParams: {},
      access,
    } as never;
    const reply = await m.route.handler(ctx).catch((err: unknown) => m.route.onError(err, ctx));
    const headers = Object.fromEntries(
      Object.entries(reply.headers ?? {}).filter(([k]) => k.startsWith('x-kjournal') || k === 'retry-after'),
    );
    return { status: reply.status, text: String(reply.body), headers };
  };
  return { journal, call, handlerFor: m.route, access };
}

// A test that waits for a piece that never comes fails after a minute rather than hanging the run.
describe('journal upload through a decode worker', { timeout: 60_000 }, () => {
  const pool = new DecodePool(1);
  after(() => pool.close());

  test('the same answers and the same stored records as inline, whatever the chunks', async () => {
    const cases: { name: string; body: Buffer; chunks?: number[]; maxBodyBytes?: number }[] = [
      { name: 'entries of every kind, odd chunks', body: uploadBody(3000, 'a') },
      { name: 'the same in one chunk', body: uploadBody(3000, 'b'), chunks: [10 << 20] },
      { name: 'entries of every kind, chunks of 1 KiB', body: uploadBody(2000, 'c'), chunks: [1024] },
      {
        name: 'an entry over the limit across pieces: 413',
        body: uploadBody(2500, 'd', { big: 1200 }),
        maxBodyBytes: 100_000,
      },
      {
        name: 'an entry over the limit within one piece: 413',
        body: uploadBody(2500, 'e', { big: 1200 }),
        chunks: [10 << 20],
        maxBodyBytes: 100_000,
      },
    ];
    const expected = [400, 400, 400, 413, 413];
    for (const [k, c] of cases.entries()) {
      assert.ok(c.body.length > 2 * JOURNAL_PIECE_BYTES, `${c.name}: more than two pieces`);
      const inline = uploadRoute(undefined, c.maxBodyBytes);
      const pooled = uploadRoute(pool, c.maxBodyBytes);
      const a = await inline.call(oddChunks(c.body, c.chunks));
      const b = await pooled.call(oddChunks(c.body, c.chunks));
      assert.deepEqual(b, a, c.name);
      assert.equal(a.status, expected[k], `${c.name}: ${a.text}`);
      if (a.status === 413) {
        assert.match(a.text, /journal entry too large: limit is 100000 bytes/);
        continue;
      }
      // The same records; their order differs with the batches' cuts (the intake groups a batch by stream).
      assert.deepEqual(byTime(pooled.journal.records), byTime(inline.journal.records), c.name);
      assert.match(
        a.text,
        /^2 corrupt entries refused: bad field name "bad name!"; entry without a valid __REALTIME_TIMESTAMP; the others were stored/,
      );
      const n = c.body === cases[2]!.body ? 2000 : 3000;
      assert.equal(a.headers['x-kjournal-entries-stored'], String(n - 2));
      assert.equal(inline.journal.records.length, n - 2);
    }
    assert.notEqual(pool.threadIds[0], -1, 'the worker parsed them');
    assert.equal(pool.openStreams, 0);
    assert.deepEqual(await pool.streamStatesForTest(), [0], 'no stream left in the worker');
  });

  test('what the records hold: binary fields, Kata fields, one labels object per host across uploads', async () => {
    const route = uploadRoute(pool);
    const body = uploadBody(600, 'k');
    assert.equal((await route.call(oddChunks(body))).status, 400);
    assert.equal((await route.call(oddChunks(body))).status, 400);
    const recs = route.journal.records;
    const bin = recs.find((r) => r.body.startsWith('k binary 7'))!;
    assert.equal(bin.body, 'k binary 7\nsecond line\0\uFFFDA');
    assert.equal(bin.attributes?.COREDUMP, undefined);
    const kata = recs.find((r) => r.body.includes('word 11"'))!;
    assert.equal(kata.attributes?.kata_msg, 'a "quoted" word 11');
    assert.equal(kata.attributes?.kata_sandbox, 's1');
    const json = recs.find((r) => r.body.includes('json 12'))!;
    assert.equal(json.attributes?.kata_nested_pid, '12');
    const host0 = recs.filter((r) => r.labels.node === 'k-node-0');
    assert.equal(host0.length, 2 * (200 - 2)); // 333 and 444 are corrupt
    assert.equal(new Set(host0.map((r) => r.labels)).size, 1, 'one labels object for the host');
    assert.deepEqual(host0[0]!.labels, {
      kind: 'log',
      source: 'journal',
      node: 'k-node-0',
      class: 'infrastructure',
    });
  });

  test('a worker that dies mid-upload: 503 with Retry-After; the next upload is stored', async () => {
    const route = uploadRoute(pool);
    const body = uploadBody(3000, 'x');
    const before = pool.threadIds[0];
    let sentFirst = false;
    const chunks = async function* () {
      yield body.subarray(0, JOURNAL_PIECE_BYTES + 10);
      sentFirst = true;
      // The first piece is in the worker; the next one finds it gone.
      await until('the first piece parsed', async () => (await pool.streamStatesForTest())[0] === 1);
      pool.crashNextForTest();
      yield body.subarray(JOURNAL_PIECE_BYTES + 10, 2 * JOURNAL_PIECE_BYTES + 20);
      yield body.subarray(2 * JOURNAL_PIECE_BYTES + 20);
    };
    const r = await route.call(chunks());
    assert.ok(sentFirst);
    assert.equal(r.status, 503, r.text);
    assert.equal(r.headers['retry-after'], '1');
    assert.notEqual(pool.threadIds[0], before, 'the worker was replaced');
    assert.equal(pool.openStreams, 0);
    const again = uploadRoute(pool);
    const ok = await again.call(oddChunks(body));
    assert.equal(ok.status, 400, ok.text); // its corrupt entries, the others stored
    assert.equal(again.journal.records.length, 3000 - 2);
    assert.deepEqual(await pool.streamStatesForTest(), [0]);
  });

  test('a failed write and a 413 leave no stream in the worker', async () => {
    const route = uploadRoute(pool);
    route.journal.failNext = true;
    const r = await route.call(oddChunks(uploadBody(3000, 'f')));
    assert.equal(r.status, 503, r.text);
    const big = uploadRoute(pool, 100_000);
    assert.equal((await big.call(oddChunks(uploadBody(2500, 'g', { big: 100 })))).status, 413);
    assert.equal(pool.openStreams, 0);
    assert.deepEqual(await pool.streamStatesForTest(), [0]);
  });

  test('a client that goes away mid-upload: the worker drops the stream', async () => {
    const route = uploadRoute(pool);
    const settled: string[] = [];
    const server = createServer((req, res) => {
      const ctx = {
        req,
        url: new URL('http://x/upload'),
        params: new URLSearchParams(),
        pathParams: {},
        access: route.access,
      } as never;
      route.handlerFor.handler(ctx).then(
        (reply) => {
          settled.push(`answered ${reply.status}`);
          res.end();
        },
        (err: Error) => {
          settled.push(`failed: ${err.message}`);
          res.destroy();
        },
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const client = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/upload',
        headers: { 'content-type': TYPE, 'transfer-encoding': 'chunked' },
      });
      client.on('error', () => {});
      const body = uploadBody(3000, 'z');
      client.write(body.subarray(0, 3 * JOURNAL_PIECE_BYTES));
      await until('the worker holds the upload', async () => (await pool.streamStatesForTest())[0] === 1);
      client.destroy();
      await until('the handler gave up', async () => settled.length === 1);
      assert.match(settled[0]!, /^failed: /);
      assert.equal(pool.openStreams, 0);
      assert.deepEqual(await pool.streamStatesForTest(), [0], 'nothing left in the worker');
    } finally {
      server.close();
    }
  });

  test('inline: a pool of size 0, a small body, and uploads beyond the streams a worker may hold', async () => {
    const none = new DecodePool(0);
    const route0 = uploadRoute(none);
    const r0 = await route0.call(oddChunks(uploadBody(600, 'n')));
    assert.equal(r0.status, 400);
    assert.equal(route0.journal.records.length, 598);
    assert.deepEqual(none.threadIds, []);

    const idle = new DecodePool(1);
    const small = entry([
      ['__REALTIME_TIMESTAMP', String(baseUs)],
      ['_HOSTNAME', 'h'],
      ['MESSAGE', 'small'],
    ]);
    const r1 = await uploadRoute(idle).call([small], small.length);
    assert.equal(r1.status, 200);
    assert.equal(r1.text, 'OK.\n');
    assert.deepEqual(idle.threadIds, [-1], 'a small body starts no worker');
    await idle.close();

    const one = new DecodePool(1, { maxStreamsPerWorker: 1 });
    try {
      let release: () => void = () => {};
      const held = new Promise<void>((r) => {
        release = r;
      });
      const body = uploadBody(3000, 'm');
      const slow = async function* () {
        yield body.subarray(0, 100);
        await held;
        yield body.subarray(100);
      };
      const first = uploadRoute(one);
      const firstAnswer = first.call(slow());
      await until('the first stream open', async () => one.openStreams === 1);
      assert.equal(one.openStream(new SetInterner<Labels>()), undefined);
      const second = uploadRoute(one);
      const r2 = await second.call(oddChunks(body));
      assert.equal(r2.status, 400);
      assert.equal(second.journal.records.length, 2998, 'parsed inline');
      release();
      assert.equal((await firstAnswer).status, 400);
      assert.deepEqual(byTime(first.journal.records), byTime(second.journal.records));
      assert.equal(one.openStreams, 0);
    } finally {
      await one.close();
    }
  });

  test('a closed pool fails a stream with DecodeWorkerError', async () => {
    const p = new DecodePool(1);
    const s = p.openStream(new SetInterner<Labels>())!;
    const first = await s.chunk(
      entry([
        ['__REALTIME_TIMESTAMP', String(baseUs)],
        ['MESSAGE', 'one'],
      ]),
      1n,
      1 << 20,
    );
    assert.equal(first.records.length, 1);
    await p.close();
    await assert.rejects(s.end(Buffer.alloc(0), 1n, 1 << 20), DecodeWorkerError);
  });
});

describe("JournalStreams (a worker's uploads)", () => {
  const job = (kind: 'journal-chunk' | 'journal-end', stream: number, first = false) => ({
    kind,
    stream,
    now: 5n,
    maxBodyBytes: 1 << 20,
    ...(first ? { first } : {}),
  });
  const one = entry([
    ['__REALTIME_TIMESTAMP', '1700000000000000'],
    ['_HOSTNAME', 'h'],
    ['MESSAGE', 'm'],
  ]);

  test('a stream keeps its parser between pieces and is dropped at its end', () => {
    const s = new JournalStreams();
    const a = s.run(job('journal-chunk', 1, true), one.subarray(0, 10));
    assert.equal(a.packed.lines.length, 0);
    assert.equal(s.size, 1);
    const b = s.run(job('journal-end', 1), one.subarray(10));
    assert.deepEqual(b.packed.lines, ['m']);
    assert.equal(b.packed.observedAll, 5n);
    assert.equal(s.size, 0);
  });

  test('a piece of a stream it does not hold is an error (its worker was replaced), not a new stream', () => {
    const s = new JournalStreams();
    assert.throws(() => s.run(job('journal-chunk', 9), one), /not open in this worker/);
    assert.equal(s.size, 0);
  });

  test('bounded; discard and an error drop a stream', () => {
    const s = new JournalStreams(2);
    s.run(job('journal-chunk', 1, true), one);
    s.run(job('journal-chunk', 2, true), one);
    assert.throws(() => s.run(job('journal-chunk', 3, true), one), /more than 2 journal streams/);
    s.discard(1);
    assert.equal(s.size, 1);
    const tooBig = { ...job('journal-chunk', 4, true), maxBodyBytes: 10 };
    assert.throws(() => s.run(tooBig, Buffer.from('MESSAGE=0123456789abcdef')), /journal entry too large/);
    assert.equal(s.size, 1, 'the stream that failed is dropped');
    s.discard(2);
    assert.equal(s.size, 0);
  });
});
