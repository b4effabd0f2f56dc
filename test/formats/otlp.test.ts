/**
 * The OTLP decoders and Loki 3's mapping, against the peer's own encoder: bodies serialized by
 * `@opentelemetry/otlp-transformer` (the exporters' serializers) from SDK records; pdata's AsString
 * for the other value types; Prometheus' label normalisation; malformed protobuf refused with a
 * FormatError.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { FormatError } from '../../src/formats/errors.js';
import {
  decodeOtlpJson,
  decodeOtlpProto,
  normalizeLabel,
  otlpRecords,
} from '../../src/formats/otlp/index.js';
import { asString, KvList } from '../../src/formats/otlp/model.js';

function sdkRecords(resource: Record<string, string>) {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(resource),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  provider.getLogger('lib').emit({
    body: { order: 7, items: ['a', 'b'] },
    attributes: { 'http.status_code': 503, ratio: 0.25, ok: false },
    timestamp: [1_700_000_000, 123_456_789],
  });
  return memory.getFinishedLogRecords();
}

describe('OTLP decoding and mapping', () => {
  test('protobuf and JSON of the same records give the same records', () => {
    const recs = sdkRecords({
      'k8s.container.name': 'web',
      'k8s.namespace.name': 'shop',
      'os.type': 'linux',
    });
    const proto = decodeOtlpProto(Buffer.from(ProtobufLogsSerializer.serializeRequest(recs)!), 10);
    const json = decodeOtlpJson(
      JSON.parse(Buffer.from(JsonLogsSerializer.serializeRequest(recs)!).toString()),
      10,
    );
    const now = 1n;
    const a = otlpRecords(proto, { now });
    const b = otlpRecords(json, { now });
    assert.deepEqual(a, b);
    const r = a[0]!;
    assert.equal(r.timestamp, 1_700_000_000_123_456_789n);
    // No service.name: Loki discovers it from the index labels (k8s_container_name here).
    assert.deepEqual(r.labels, {
      k8s_container_name: 'web',
      k8s_namespace_name: 'shop',
      service_name: 'web',
    });
    // A map body is its JSON, keys sorted as Go's encoding/json writes a map.
    assert.equal(r.body, '{"items":["a","b"],"order":7}');
    assert.equal(r.attributes!.http_status_code, '503');
    assert.equal(r.attributes!.ratio, '0.25');
    assert.equal(r.attributes!.ok, 'false');
    assert.equal(r.attributes!.os_type, 'linux');
    assert.equal(r.attributes!.scope_name, 'lib');
  });

  test('OTLP/JSON: a malformed field is named by its full path (decoded again with paths)', () => {
    const doc = {
      resourceLogs: [
        { scopeLogs: [{ logRecords: [{}] }] },
        { scopeLogs: [{}, { logRecords: [{}, { timeUnixNano: 'x' }] }] },
      ],
    };
    assert.throws(
      () => decodeOtlpJson(doc, 100),
      (err: unknown) =>
        err instanceof FormatError &&
        err.message === 'resourceLogs[1].scopeLogs[1].logRecords[1].timeUnixNano: expected an integer',
    );
    // And the next request is decoded as usual.
    assert.equal(decodeOtlpJson({ resourceLogs: [{ scopeLogs: [{ logRecords: [{}] }] }] }, 100).length, 1);
  });

  test('a resource with nothing to discover is unknown_service', () => {
    const recs = sdkRecords({ 'host.name': 'h' });
    const [r] = otlpRecords(
      decodeOtlpProto(Buffer.from(ProtobufLogsSerializer.serializeRequest(recs)!), 10),
      {
        now: 1n,
      },
    );
    assert.deepEqual(r!.labels, { service_name: 'unknown_service' });
  });

  test("Prometheus' label normalisation (otlptranslator.NormalizeLabel)", () => {
    assert.equal(normalizeLabel('k8s.namespace.name'), 'k8s_namespace_name');
    assert.equal(normalizeLabel('2xx.count'), 'key_2xx_count');
    assert.equal(normalizeLabel('_private'), 'key_private');
    assert.equal(normalizeLabel('__reserved'), '__reserved');
    assert.equal(normalizeLabel('http-route/v1'), 'http_route_v1');
  });

  test("pdata's AsString for every value type", () => {
    assert.equal(asString(null), '');
    assert.equal(asString(true), 'true');
    assert.equal(asString(-42n), '-42');
    assert.equal(asString(1e21), '1e+21');
    assert.equal(asString(0.1), '0.1');
    assert.equal(asString(new Uint8Array([1, 2, 255])), 'AQL/');
    assert.equal(asString([1n, 'x', null]), '[1,"x",null]');
    assert.equal(
      asString(
        new KvList([
          { key: 'b', value: 1n },
          { key: 'a', value: new KvList([]) },
        ]),
      ),
      '{"a":{},"b":1}',
    );
  });

  test('plain records alike share one metadata object; each record has the metadata it has alone', () => {
    const str = (v: string) => ({ stringValue: v });
    const rec = (observed: string, extra: Record<string, unknown> = {}) => ({
      timeUnixNano: '1700000000000000001',
      observedTimeUnixNano: observed,
      severityNumber: 9,
      severityText: 'INFO',
      body: str(`line ${observed}`),
      ...extra,
    });
    const resource = (pod: string, other: Record<string, string>, records: unknown[], scopeAttrs = {}) => ({
      resource: {
        attributes: [
          { key: 'k8s.pod.name', value: str(pod) },
          ...Object.entries(other).map(([key, v]) => ({ key, value: str(v) })),
        ],
      },
      scopeLogs: [
        {
          scope: {
            name: 'lib',
            attributes: Object.entries(scopeAttrs).map(([key, v]) => ({ key, value: str(v as string) })),
          },
          logRecords: records,
        },
      ],
    });
    const resources = [
      resource('p1', { 'os.type': 'linux' }, [
        rec('100'),
        rec('100'),
        rec('200'),
        rec('100', { severityNumber: 13, severityText: 'WARN' }),
        rec('100', { attributes: [{ key: 'user', value: str('u1') }] }),
        rec('100', { traceId: '0102030405060708090a0b0c0d0e0f10' }),
        rec('100', { timeUnixNano: '0' }),
      ]),
      resource('p2', { 'os.type': 'linux' }, [rec('100'), rec('200')]),
      resource('p3', { 'os.type': 'windows' }, [rec('100')]),
      // Scope metadata that a separator between names and values would confuse with p5's.
      resource('p4', {}, [rec('100')], { a: '1\u0000b\u00002' }),
      resource('p5', {}, [rec('100')], { a: '1', b: '2' }),
    ];
    const now = 5n;
    const all = otlpRecords(decodeOtlpJson({ resourceLogs: resources }, 100), { now });
    // Each record's metadata equals what a request of that record alone (nothing to share) gives.
    let i = 0;
    for (const r of resources) {
      for (const one of r.scopeLogs[0]!.logRecords) {
        const alone = otlpRecords(
          decodeOtlpJson(
            { resourceLogs: [{ ...r, scopeLogs: [{ ...r.scopeLogs[0]!, logRecords: [one] }] }] },
            1,
          ),
          { now },
        );
        assert.deepEqual(all[i], alone[0], `record ${i}`);
        i++;
      }
    }
    assert.equal(i, all.length);
    const a = all.map((r) => r.attributes);
    assert.equal(a[0], a[1], 'same scope, observed time and severity: one object');
    assert.equal(a[0], a[7], 'across resources with the same metadata');
    assert.equal(a[2], a[8]);
    assert.notEqual(a[0], a[2], 'another observed time');
    for (const own of [3, 4, 5, 6, 9, 10, 11]) assert.ok(!a.slice(0, own).includes(a[own]), `record ${own}`);
    assert.equal(a[10]!.a, '1\u0000b\u00002');
    assert.equal(a[11]!.b, '2');
  });

  test('a request whose records all differ stops looking for alike ones, and stays right', () => {
    const records = Array.from({ length: 600 }, (_, k) => ({
      timeUnixNano: '1700000000000000001',
      observedTimeUnixNano: String(1_700_000_000_000_000_000n + BigInt(k)),
      body: { stringValue: `l${k}` },
    }));
    const doc = {
      resourceLogs: [{ scopeLogs: [{ scope: { name: 's' }, logRecords: [...records, records[0]] }] }],
    };
    const out = otlpRecords(decodeOtlpJson(doc, 1000), { now: 1n });
    assert.equal(out.length, 601);
    for (const [k, r] of out.entries()) {
      assert.deepEqual(r.attributes, {
        scope_name: 's',
        observed_timestamp: String(1_700_000_000_000_000_000n + BigInt(k % 600)),
      });
    }
    assert.equal(new Set(out.map((r) => r.attributes)).size, 601, 'none shared');
  });

  test('malformed protobuf is a FormatError; too many records is refused with the limit', () => {
    const recs = sdkRecords({ 'service.name': 's' });
    const good = Buffer.from(ProtobufLogsSerializer.serializeRequest(recs)!);
    assert.throws(() => decodeOtlpProto(good.subarray(0, good.length - 3), 10), FormatError);
    assert.throws(() => decodeOtlpProto(Buffer.from([0x0b]), 10), /wrong wireType|illegal/);
    assert.throws(() => decodeOtlpProto(good, 0), /too many log records in one request: limit is 0/);
  });
});
