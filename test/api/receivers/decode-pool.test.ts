/**
 * The decode pool (api/receivers/decode-pool.ts): records decoded in a worker are the records
 * decoded inline (label sets interned to the same object across requests); decoder errors come back
 * as the same classes; a worker that dies fails its request with a 5xx answer and is replaced; a
 * full pool and a closed one hand the body back for inline decoding. End to end: the same bodies
 * into a server with `decodeWorkers: 0` and one with a worker give the same answers and store the
 * same lines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { registerElasticsearchApi } from '../../../src/api/elasticsearch/routes.js';
import { Router } from '../../../src/api/http/router.js';
import { registerOtlpApi } from '../../../src/api/otlp/routes.js';
import {
  type DecodeJob,
  decodeJob,
  fromWireError,
  newDecodeState,
  toWireError,
} from '../../../src/api/receivers/decode-jobs.js';
import { packRecords, unpackRecords } from '../../../src/api/receivers/decode-packed.js';
import {
  DECODE_INLINE_BELOW,
  DecodePool,
  DecodeWorkerError,
} from '../../../src/api/receivers/decode-pool.js';
import { Intake } from '../../../src/api/receivers/intake.js';
import { ProtocolCounter, receiverCounters } from '../../../src/api/receivers/metrics.js';
import { registerHecApi } from '../../../src/api/splunk/routes.js';
import { FormatError } from '../../../src/formats/errors.js';
import { DEFAULT_PUSH_LIMITS } from '../../../src/formats/loki-push/index.js';
import { HecFormatError } from '../../../src/formats/splunk-hec/decode.js';
import { SetInterner } from '../../../src/model/intern.js';
import type { RawRecord } from '../../../src/model/normalize.js';
import type { Attributes, Labels, LogRecord } from '../../../src/model/record.js';
import { http, queryRange } from '../../helpers/server-process.js';
import { routeCaller, startTestServer } from './helpers.js';

const nowNs = BigInt(Date.now()) * 1_000_000n;
const PAD = 'ü'.repeat(200); // non-ASCII, and enough lines of it make a body past the pool's threshold

/** An OTLP/JSON body of `n` records over two resources (times fixed, so both servers store alike). */
function otlpBody(n: number, tag: string, extra: { long?: number } = {}): string {
  const res = (svc: string, from: number, to: number) => ({
    resource: {
      attributes: [
        { key: 'service.name', value: { stringValue: svc } },
        { key: 'k8s.namespace.name', value: { stringValue: 'shop' } },
        { key: 'host.arch', value: { stringValue: 'amd64' } },
      ],
    },
    scopeLogs: [
      {
        scope: { name: 'lib', version: '1.0' },
        logRecords: Array.from({ length: to - from }, (_, k) => {
          const i = from + k;
          return {
            timeUnixNano: String(nowNs - 60_000_000_000n + BigInt(i) * 1000n),
            severityNumber: 9,
            severityText: 'INFO',
            body: {
              stringValue: i === extra.long ? `${tag} ${'x'.repeat(3000)}` : `${tag} line ${i} ${PAD}`,
            },
            attributes: [
              { key: 'i', value: { intValue: String(i) } },
              { key: 'user.id', value: { stringValue: `u${i % 3}` } },
            ],
          };
        }),
      },
    ],
  });
  const half = Math.floor(n / 2);
  return JSON.stringify({ resourceLogs: [res(`${tag}-a`, 0, half), res(`${tag}-b`, half, n)] });
}

/** HEC events, one after another; `bad` replaces event `at` with its text. */
function hecBody(n: number, tag: string, bad?: { at: number; text: string }): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (bad && bad.at === i) {
      out.push(bad.text);
      continue;
    }
    out.push(
      JSON.stringify({
        event: i % 5 === 0 ? { msg: `${tag} ${i}`, pad: PAD } : `${tag} event ${i} ${PAD}`,
        time: (Number(nowNs / 1_000_000n) - 60_000 + i) / 1000,
        host: `node-${i % 2}`,
        sourcetype: 'app',
        index: tag,
        source: 'src',
        fields: { n: i, nested: { k: 'v' } },
      }),
    );
  }
  return out.join('\n');
}

/** An Elasticsearch bulk body: Fluent Bit's documents, with refused items mixed in. */
function bulkBody(n: number, tag: string, opts: { long?: number; badAction?: number } = {}): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i === opts.badAction) out.push('{"create":{"_index":');
    else if (i % 50 === 7) out.push(JSON.stringify({ delete: { _index: tag, _id: `d${i}` } }));
    else out.push(JSON.stringify({ create: i % 10 === 3 ? { _index: tag, _id: `id-${i}` } : {} }));
    if (i % 50 === 7) continue;
    if (i % 50 === 11) out.push('{"message": nope}');
    else if (i % 50 === 13) out.push('[1,2]');
    else
      out.push(
        JSON.stringify({
          '@timestamp': new Date(Number(nowNs / 1_000_000n) - 60_000 + i).toISOString(),
          message: i === opts.long ? 'x'.repeat(3000) : `${tag} doc ${i} ${PAD}`,
          kubernetes: { namespace_name: 'shop', pod_name: `pod-${i % 3}`, container_name: 'app', host: 'n1' },
          level: i % 2 ? 'info' : 'warn',
        }),
      );
  }
  return `${out.join('\n')}\n`;
}

/** A bulk answer without what differs from one server to the next: `took`, and the ids it made. */
function sameBulkAnswer(text: string): string {
  try {
    const doc = JSON.parse(text) as { took?: number; items?: Record<string, { _id?: string }>[] };
    if (doc.took !== undefined) doc.took = 0;
    for (const item of doc.items ?? []) {
      for (const r of Object.values(item)) if (r._id && !/^(id|d)\d*-?\d+$/.test(r._id)) r._id = 'made';
    }
    return JSON.stringify(doc);
  } catch {
    return text;
  }
}

describe('decode pool: packed records and errors', () => {
  test('packRecords then unpackRecords gives the same records; labels interned; shared attributes stay shared', () => {
    const labels = { app: 'a' };
    const shared = { k: 'v' };
    const records = [
      { timestamp: 1n, observedTimestamp: 9n, labels, attributes: shared, body: 'één' },
      { timestamp: -2n, observedTimestamp: 9n, labels: { app: 'b' }, attributes: shared, body: '' },
      { timestamp: 3n, observedTimestamp: 10n, labels, body: 'three' },
      { timestamp: 4n, observedTimestamp: 10n, labels, attributes: { x: '1', y: '' }, body: 'four' },
    ];
    const interner = new SetInterner<Labels>();
    const known = interner.intern({ app: 'a' });
    const { packed } = packRecords(records);
    assert.deepEqual([...packed.lineBytes], [5, 0, 5, 4], 'UTF-8 lengths');
    assert.equal(packed.observedAll, undefined, 'observed times that differ are sent each');
    const back = unpackRecords(structuredClone(packed), interner);
    assert.deepEqual(back, records);
    assert.equal(back[0]!.labels, known, 'a known label set is the interned object');
    assert.equal(back[0]!.attributes, back[1]!.attributes);
    assert.ok(!('attributes' in back[2]!));
  });

  test('times outside 64 bits come back as they are, not wrapped (the intake refuses them)', () => {
    const labels = { app: 'a' };
    const times = [(1n << 64n) + 5n, 18446744073709551615000n, -(1n << 63n) - 1n, (1n << 63n) - 1n, 7n];
    const records = times.map((timestamp) => ({ timestamp, observedTimestamp: 1n, labels, body: 'x' }));
    const { packed } = packRecords(records);
    assert.equal(packed.wideTimes?.length, 3);
    const back = unpackRecords(structuredClone(packed), new SetInterner<Labels>());
    assert.deepEqual(
      back.map((r) => r.timestamp),
      times,
    );
  });

  test("with an attributes interner, pieces' shared sets are one object across pieces; one-off sets are not kept", () => {
    const labels = { app: 'a' };
    const piece = (unit: string) => {
      const shared = { unit, host: 'h' };
      return packRecords([
        { timestamp: 1n, observedTimestamp: 1n, labels, attributes: shared, body: 'a' },
        { timestamp: 2n, observedTimestamp: 1n, labels, attributes: { kata_msg: 'x', unit }, body: 'b' },
        { timestamp: 3n, observedTimestamp: 1n, labels, attributes: shared, body: 'c' },
      ]).packed;
    };
    const labelSets = new SetInterner<Labels>();
    const attributeSets = new SetInterner<Attributes>();
    const one = unpackRecords(structuredClone(piece('u1')), labelSets, attributeSets);
    const two = unpackRecords(structuredClone(piece('u1')), labelSets, attributeSets);
    assert.equal(one[0]!.attributes, two[0]!.attributes, 'a set two records share: one object');
    assert.equal(two[0]!.attributes, two[2]!.attributes);
    assert.deepEqual(two[1]!.attributes, one[1]!.attributes);
    assert.notEqual(two[1]!.attributes, one[1]!.attributes, 'a one-off set is its own');
    const other = unpackRecords(structuredClone(piece('u2')), labelSets, attributeSets);
    assert.deepEqual(other[0]!.attributes, { unit: 'u2', host: 'h' });
    // One observed time for every record: sent once.
    assert.equal(piece('u3').observed.length, 0);
    assert.equal(piece('u3').observedAll, 1n);
    assert.deepEqual(
      other.map((r) => r.observedTimestamp),
      [1n, 1n, 1n],
    );
  });

  test('sets of the same names with other values, names in another order, and empty sets pack and unpack as they were', () => {
    const labels = { app: 'a' };
    const records: RawRecord[] = [
      { timestamp: 1n, observedTimestamp: 1n, labels, attributes: { scope: 's', seen: '1' }, body: 'a' },
      { timestamp: 2n, observedTimestamp: 1n, labels, attributes: { scope: 's', seen: '2' }, body: 'b' },
      { timestamp: 3n, observedTimestamp: 1n, labels, attributes: { seen: '3', scope: 's' }, body: 'c' },
      { timestamp: 4n, observedTimestamp: 1n, labels, attributes: { scope: 's', seen: '4' }, body: 'd' },
      { timestamp: 5n, observedTimestamp: 1n, labels, attributes: { scope: 's' }, body: 'e' },
      { timestamp: 6n, observedTimestamp: 1n, labels, attributes: {}, body: 'f' },
      { timestamp: 7n, observedTimestamp: 1n, labels, attributes: { scope: 't', seen: '7' }, body: 'g' },
    ];
    const { packed } = packRecords(records);
    assert.equal(packed.attrShapes.length, 3, 'three distinct lists of names');
    const back = unpackRecords(structuredClone(packed), new SetInterner<Labels>());
    const { attributes: _, ...withoutEmpty } = records[5]!;
    assert.deepEqual(back, [...records.slice(0, 5), withoutEmpty, records[6]]);
    assert.deepEqual(Object.keys(back[2]!.attributes!), ['seen', 'scope'], 'names keep their order');
  });

  test('decoder errors come back as the same classes and fields', () => {
    const hec = fromWireError(
      structuredClone(toWireError(new HecFormatError(12, 'Event field is required', 4))),
    );
    assert.ok(hec instanceof HecFormatError);
    assert.equal(hec.hecCode, 12);
    assert.equal(hec.invalidEventNumber, 4);
    assert.equal(hec.message, 'Event field is required');
    const noData = fromWireError(structuredClone(toWireError(new HecFormatError(5, 'No data'))));
    assert.ok(noData instanceof HecFormatError);
    assert.equal(noData.invalidEventNumber, undefined);
    const big = fromWireError(structuredClone(toWireError(new FormatError('too-large', 'more than 3'))));
    assert.ok(big instanceof FormatError && !(big instanceof HecFormatError));
    assert.equal(big.code, 'too-large');
  });
});

describe('decode jobs: bodies with non-ASCII text', () => {
  const now = 1_700_000_000_000_000_000n;
  const pad = 'x'.repeat(2000);
  test('OTLP/JSON and bulk records hold the text as sent; errors quote it as sent', () => {
    const otlp = Buffer.from(
      JSON.stringify({
        resourceLogs: [
          {
            scopeLogs: [
              { logRecords: [{ timeUnixNano: '1', body: { stringValue: `héllo 日本 🚀 ${pad}` } }] },
            ],
          },
        ],
      }),
    );
    const job: DecodeJob = { kind: 'otlp-json', maxRecords: 10, now, checkBounds: false };
    assert.equal(decodeJob(job, otlp, newDecodeState()).records[0]!.body, `héllo 日本 🚀 ${pad}`);
    const broken = Buffer.from(`{"resourceLogs":[{"é":"${pad}" oops}]}`);
    assert.throws(
      () => decodeJob(job, broken, newDecodeState()),
      (err: unknown) => {
        let plain = '';
        try {
          JSON.parse(broken.toString());
        } catch (e) {
          plain = (e as Error).message;
        }
        assert.match(plain, /position \d+/);
        assert.equal((err as Error).message, `invalid OTLP/JSON: ${plain}`);
        return true;
      },
    );
    const bulk = Buffer.from(
      [
        '{"create":{"_index":"i"}}',
        JSON.stringify({ message: `wörld ✓ ${pad}` }),
        '{"create":{"_index":"i"}}',
        `{"message":"ü ${pad}" oops}`,
        '',
      ].join('\n'),
    );
    // HEC: an object event is kept as its text as sent (non-ASCII and the sender's own escapes),
    // also after non-ASCII text earlier in the body.
    const objectEvent = `{"msg": "naïve \\u00e9 ✓",  "n": [1, 2.50]}`;
    const hec = Buffer.from(
      `{"event":"première ${pad}"}{"time":1,"event": ${objectEvent} ,"host":"h"}{"event":"日本"}`,
    );
    const hecJob: DecodeJob = { kind: 'hec-event', maxEvents: 10, now };
    const hecRecords = decodeJob(hecJob, hec, newDecodeState()).records;
    assert.deepEqual(
      hecRecords.map((r) => r.body),
      [`première ${pad}`, objectEvent, '日本'],
    );
    const bulkJob: DecodeJob = { kind: 'es-bulk', maxRecords: 10, now, index: '' };
    const decoded = decodeJob(bulkJob, bulk, newDecodeState());
    assert.equal(decoded.records[0]!.body, `wörld ✓ ${pad}`);
    const reason = decoded.bulk!.items[1]!.error!.reason;
    assert.throws(
      () => JSON.parse(`{"message":"ü ${pad}" oops}`),
      (err: unknown) => {
        assert.equal(reason, `failed to parse: ${(err as Error).message}`);
        return true;
      },
    );
  });
});

describe('decode pool: workers', () => {
  let pool: DecodePool;
  before(() => {
    pool = new DecodePool(1, { inlineBelow: 0, maxQueuedPerWorker: 2 });
  });
  after(() => pool.close());

  test('a worker decodes OTLP/JSON and HEC into the records an inline decode gives; labels are one object across requests', async () => {
    const interner = new SetInterner<Labels>();
    const jobs: [DecodeJob, string][] = [
      [{ kind: 'otlp-json', maxRecords: 1000, now: nowNs, checkBounds: true }, otlpBody(300, 'o')],
      [{ kind: 'hec-event', maxEvents: 1000, now: nowNs }, hecBody(300, 'h')],
    ];
    for (const [job, text] of jobs) {
      const inline = decodeJob(job, Buffer.from(text), newDecodeState());
      const first = (await pool.decode(job, Buffer.from(text), interner)!).records;
      const second = (await pool.decode(job, Buffer.from(text), interner)!).records;
      assert.deepEqual(first, inline.records);
      assert.equal(first.length, 300);
      assert.equal(second[0]!.labels, first[0]!.labels, 'the same labels object request after request');
    }
    const bulkJob: DecodeJob = {
      kind: 'es-bulk',
      maxRecords: 1000,
      now: nowNs,
      index: 'i',
    };
    const text = bulkBody(300, 'b');
    const inline = decodeJob(bulkJob, Buffer.from(text), newDecodeState());
    const pooled = await pool.decode(bulkJob, Buffer.from(text), interner)!;
    // Inline, the items keep their documents; what comes back from a worker is their heads.
    const heads = inline.bulk!.items.map((item) => {
      const { doc: _, ...head } = item as typeof item & { doc?: unknown };
      return head;
    });
    const { lineBytes, ...rest } = pooled;
    assert.deepEqual(rest, { records: inline.records, bulk: { items: heads, slot: inline.bulk!.slot } });
    assert.deepEqual(
      [...lineBytes!],
      inline.records.map((r) => Buffer.byteLength(r.body)),
    );
    assert.equal(pooled.bulk!.items.length, 300);
    assert.equal(pooled.bulk!.items[3]!.id, 'id-3');
    assert.equal(pooled.bulk!.slot[7], -1);
  });

  test('a worker that dies fails its request with DecodeWorkerError; it is replaced and the next request decodes', async () => {
    const interner = new SetInterner<Labels>();
    const job: DecodeJob = { kind: 'hec-event', maxEvents: 1000, now: nowNs };
    const [before] = pool.threadIds;
    pool.crashNextForTest();
    await assert.rejects(pool.decode(job, Buffer.from(hecBody(10, 'c')), interner)!, DecodeWorkerError);
    assert.equal(pool.inFlight, 0);
    const { records } = await pool.decode(job, Buffer.from(hecBody(10, 'c')), interner)!;
    assert.equal(records.length, 10);
    assert.notEqual(pool.threadIds[0], before, 'a new worker');
  });

  test('bounded: past maxQueuedPerWorker bodies, decode() hands the body back (inline)', async () => {
    const interner = new SetInterner<Labels>();
    const job: DecodeJob = { kind: 'hec-event', maxEvents: 100_000, now: nowNs };
    const body = hecBody(2000, 'q');
    const a = pool.decode(job, Buffer.from(body), interner);
    const b = pool.decode(job, Buffer.from(body), interner);
    assert.ok(a && b);
    assert.equal(pool.decode(job, Buffer.from(body), interner), undefined);
    assert.equal(pool.wants(1 << 20), false);
    await Promise.all([a, b]);
    assert.equal(pool.wants(1 << 20), true);
  });

  test('a worker that cannot start is not restarted in a loop: its bodies decode inline', async () => {
    const logs: string[] = [];
    const p = new DecodePool(1, {
      inlineBelow: 0,
      workerUrl: new URL('./no-such-decode-worker.js', import.meta.url),
      log: (l) => logs.push(l),
    });
    try {
      const job: DecodeJob = { kind: 'hec-event', maxEvents: 10, now: nowNs };
      const first = p.decode(job, Buffer.from(hecBody(1, 'x')), new SetInterner());
      assert.ok(first, 'taken before the worker is known to have failed');
      await assert.rejects(first, DecodeWorkerError);
      assert.equal(p.decode(job, Buffer.from(hecBody(1, 'x')), new SetInterner()), undefined);
      assert.equal(p.wants(1 << 20), false);
      assert.ok(
        logs.some((l) => /could not start/.test(l)),
        logs.join('\n'),
      );
    } finally {
      await p.close();
    }
  });

  test('small bodies decode inline; a closed pool takes nothing and fails what it held', async () => {
    const p = new DecodePool(1);
    const job: DecodeJob = { kind: 'hec-event', maxEvents: 100_000, now: nowNs };
    assert.equal(p.decode(job, Buffer.from(hecBody(1, 's')), new SetInterner()), undefined);
    const held = p.decode(job, Buffer.from(hecBody(2000, 's')), new SetInterner());
    assert.ok(held);
    await p.close();
    await assert.rejects(held, DecodeWorkerError);
    assert.equal(p.decode(job, Buffer.from(hecBody(2000, 's')), new SetInterner()), undefined);
  });
});

/** A journal that takes every write. */
const journal = {
  admitWrite(): void {},
  async write(_tenant: string, records: LogRecord[]) {
    return { stored: records.length, duplicates: 0 };
  },
};

test('a request whose worker dies gets an error answer (OTLP 503 and Elasticsearch 429 with Retry-After, HEC 500 code 8); the next one is stored', async () => {
  const pool = new DecodePool(1);
  try {
    const intake = new Intake({ journal: journal as never, limits: DEFAULT_PUSH_LIMITS });
    const counters = receiverCounters(new Registry());
    const router = new Router();
    const common = { intake, maxBodyBytes: 64 << 20, decodePool: pool };
    registerOtlpApi(router, {
      ...common,
      maxRecords: 10_000,
      counter: new ProtocolCounter(counters, 'otlp'),
    });
    registerHecApi(router, { ...common, maxEvents: 10_000, counter: new ProtocolCounter(counters, 'hec') });
    registerElasticsearchApi(router, {
      ...common,
      maxRecords: 10_000,
      counter: new ProtocolCounter(counters, 'elasticsearch'),
      version: 'test',
    });
    const call = routeCaller(router);
    pool.crashNextForTest();
    const otlp = await call('/otlp/v1/logs', 'application/json', otlpBody(400, 'k'));
    assert.equal(otlp.status, 503);
    assert.equal(otlp.headers?.['retry-after'], '1');
    assert.equal((await call('/otlp/v1/logs', 'application/json', otlpBody(400, 'k'))).status, 200);
    pool.crashNextForTest();
    const hec = await call('/services/collector/event', 'application/json', hecBody(400, 'k'));
    assert.equal(hec.status, 500);
    assert.deepEqual(JSON.parse(String(hec.body)), { text: 'Internal server error', code: 8 });
    const ok = await call('/services/collector/event', 'application/json', hecBody(400, 'k'));
    assert.equal(ok.status, 200);
    // Elasticsearch's "retry later" is 429 (its clients and shippers retry it; api/receivers/errors.ts).
    pool.crashNextForTest();
    const es = await call('/k/_bulk', 'application/x-ndjson', bulkBody(400, 'k'));
    assert.equal(es.status, 429);
    assert.equal(es.headers?.['retry-after'], '1');
    const esOk = await call('/k/_bulk', 'application/x-ndjson', bulkBody(400, 'k'));
    assert.equal(esOk.status, 200);
    assert.match(String(esOk.body), /"errors":true/); // the deletes and bad documents of bulkBody
    assert.equal(pool.inFlight, 0);
  } finally {
    await pool.close();
  }
});

describe('the same bodies with --decode-workers 0 and with a worker: the same answers, the same stored lines', () => {
  const servers: { url: string; stop(): Promise<void> }[] = [];
  before(async () => {
    for (const decodeWorkers of [0, 1]) {
      const t = await startTestServer({
        receivers: { decodeWorkers },
        maxPushEntries: 1000,
        limits: { ...DEFAULT_PUSH_LIMITS, maxLineSize: 2000 },
      });
      servers.push({ url: t.server.url, stop: t.stop });
    }
  });
  after(() => Promise.all(servers.map((s) => s.stop())));

  // Past 1 MiB: scanned (a smaller body sent as is is not: decode-route.ts).
  const deep = `{"resourceLogs":[],"pad":"${'p'.repeat(1_100_000)}","x":${'['.repeat(1001)}${']'.repeat(1001)}}`;
  // Small and not scanned: the decoder refuses an AnyValue nested past 100 levels (as protobuf's does).
  let nested = '{"stringValue":"x"}';
  for (let i = 0; i < 101; i++) nested = `{"arrayValue":{"values":[${nested}]}}`;
  const deepValue = `{"resourceLogs":[{"resource":{},"scopeLogs":[{"logRecords":[{"timeUnixNano":"${nowNs}","body":${nested}}]}]}],"pad":"${'p'.repeat(70_000)}"}`;
  const many = `{"resourceLogs":[],"x":[${'0,'.repeat(2_000_001)}0]}`;
  const cases: { name: string; path: string; body: string | Buffer; gzip?: boolean }[] = [
    { name: 'OTLP valid', path: '/otlp/v1/logs', body: otlpBody(400, 'ok') },
    { name: 'OTLP valid, gzip', path: '/otlp/v1/logs', body: otlpBody(400, 'gz'), gzip: true },
    {
      name: 'OTLP one line too long: partial success',
      path: '/otlp/v1/logs',
      body: otlpBody(400, 'ps', { long: 7 }),
    },
    { name: 'OTLP invalid JSON', path: '/otlp/v1/logs', body: `${otlpBody(400, 'bad').slice(0, -3)}}` },
    {
      name: 'OTLP not OTLP',
      path: '/otlp/v1/logs',
      body: `{"resourceLogs":{"pad":"${'p'.repeat(70_000)}"}}`,
    },
    { name: 'OTLP too deep', path: '/otlp/v1/logs', body: deep },
    { name: 'OTLP too many values', path: '/otlp/v1/logs', body: many },
    { name: 'OTLP too deep, gzip', path: '/otlp/v1/logs', body: deep, gzip: true },
    { name: 'OTLP too many records', path: '/otlp/v1/logs', body: otlpBody(1001, 'many') },
    { name: 'HEC valid', path: '/services/collector/event', body: hecBody(400, 'hv') },
    { name: 'HEC valid, gzip', path: '/services/collector/event', body: hecBody(400, 'hz'), gzip: true },
    {
      name: 'HEC event field missing at 250',
      path: '/services/collector/event',
      body: hecBody(400, 'h12', { at: 250, text: '{"time":1}' }),
    },
    {
      name: 'HEC invalid JSON at 300',
      path: '/services/collector/event',
      body: hecBody(400, 'h6', { at: 300, text: '{"event":nope}' }),
    },
    {
      name: 'HEC blank event',
      path: '/services/collector/event',
      body: hecBody(400, 'h13', { at: 9, text: '{"event":" "}' }),
    },
    { name: 'HEC too many events', path: '/services/collector/event', body: hecBody(1001, 'hmany') },
    {
      name: 'bulk valid, refused items, a line too long',
      path: '/bulk-a/_bulk',
      body: bulkBody(400, 'ba', { long: 5 }),
    },
    {
      name: 'bulk valid, gzip',
      path: '/_bulk',
      body: bulkBody(400, 'bz').replaceAll('{}', '{"_index":"bz"}'),
      gzip: true,
    },
    { name: 'bulk malformed action line', path: '/_bulk', body: bulkBody(400, 'bm', { badAction: 200 }) },
    { name: 'bulk too deep', path: '/_bulk', body: `{"create":{"_index":"x"}}\n${deep}\n` },
    { name: 'bulk too many items', path: '/bulk-m/_bulk', body: bulkBody(1100, 'bmany') },
    { name: 'OTLP AnyValue too deep', path: '/otlp/v1/logs', body: deepValue },
    {
      name: 'HEC too deep, gzip',
      path: '/services/collector/event',
      body: `{"event":"ok"}{"event":${'['.repeat(200_000)}${']'.repeat(200_000)}}`,
      gzip: true,
    },
    {
      name: 'HEC too many values',
      path: '/services/collector/event',
      body: `{"event":"ok"}{"event":[${'0,'.repeat(2_000_001)}0]}`,
    },
  ];

  test('every answer (status, body, headers) and every stored line is the same', async () => {
    const answers: unknown[][] = [[], []];
    for (const c of cases) {
      for (const [i, s] of servers.entries()) {
        const raw = Buffer.from(c.body);
        const body = c.gzip ? gzipSync(raw) : raw;
        assert.ok(raw.length >= DECODE_INLINE_BELOW, `${c.name}: a body the pool takes`);
        const r = await http(`${s.url}${c.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(c.gzip ? { 'content-encoding': 'gzip' } : {}) },
          body,
        });
        const headers = Object.fromEntries(
          [...r.headers].filter(([k]) => k !== 'date' && k !== 'x-request-id'),
        );
        answers[i]!.push({ case: c.name, status: r.status, body: sameBulkAnswer(r.text), headers });
      }
    }
    assert.deepEqual(answers[1], answers[0]);
    const statuses = (answers[0] as { case: string; status: number }[]).map((a) => `${a.case}: ${a.status}`);
    // Each case did what it is named for (so that "the same" is not "the same failure").
    assert.deepEqual(statuses, [
      'OTLP valid: 200',
      'OTLP valid, gzip: 200',
      'OTLP one line too long: partial success: 200',
      'OTLP invalid JSON: 400',
      'OTLP not OTLP: 400',
      'OTLP too deep: 400',
      'OTLP too many values: 413',
      'OTLP too deep, gzip: 400',
      'OTLP too many records: 400',
      'HEC valid: 200',
      'HEC valid, gzip: 200',
      'HEC event field missing at 250: 400',
      'HEC invalid JSON at 300: 400',
      'HEC blank event: 400',
      'HEC too many events: 413',
      'bulk valid, refused items, a line too long: 200',
      'bulk valid, gzip: 200',
      'bulk malformed action line: 400',
      'bulk too deep: 200',
      'bulk too many items: 400',
      'OTLP AnyValue too deep: 400',
      'HEC too deep, gzip: 400',
      'HEC too many values: 413',
    ]);
    const bulk = JSON.parse((answers[0]![15] as { body: string }).body) as {
      errors: boolean;
      items: Record<string, { status: number; _id: string }>[];
    };
    assert.equal(bulk.errors, true);
    assert.equal(bulk.items.length, 400);
    assert.deepEqual(
      [5, 7, 11, 13, 14].map((i) => Object.values(bulk.items[i]!)[0]!.status),
      [400, 400, 400, 400, 201],
    );
    assert.equal(bulk.items[3]!.create!._id, 'id-3');
    const partial = JSON.parse((answers[0]![2] as { body: string }).body);
    assert.equal(partial.partialSuccess.rejectedLogRecords, '1');
    assert.deepEqual(JSON.parse((answers[0]![11] as { body: string }).body), {
      text: 'Event field is required',
      code: 12,
      'invalid-event-number': 250,
    });
    for (const [query, expected] of [
      ['{service_name=~".+"}', 400 + 400 + 399],
      ['{source="splunk"}', 400 + 400],
      ['{index=~"ba|bz|bulk-a"}', 2 * (400 - 8 - 8 - 8) - 1],
    ] as const) {
      const stored = await Promise.all(
        servers.map(async (s) => {
          const res = await queryRange(s.url, { query, limit: '5000', since: '1h', direction: 'forward' });
          return res.data.result.map((r) => JSON.stringify(r)).sort();
        }),
      );
      assert.deepEqual(stored[1], stored[0], query);
      const count = stored[0]!.reduce(
        (n, s) => n + (JSON.parse(s) as { values: unknown[] }).values.length,
        0,
      );
      assert.equal(count, expected, query);
    }
  });
});
