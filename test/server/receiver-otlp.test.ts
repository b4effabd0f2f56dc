/**
 * The OTLP/HTTP logs receiver (issue 17) with its real peer: the OpenTelemetry JS SDK's log records
 * sent by `@opentelemetry/exporter-logs-otlp-http` (JSON) and `-proto` (protobuf), plain and gzip'd,
 * to a real server process; read back through the Loki API. Records are made by the SDK's
 * LoggerProvider and handed to the exporters' own `export`, so each send's result is checked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { context, TraceFlags, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  allValues,
  http,
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

/** Log records as the SDK makes them, for the resource given. */
function sdkRecords(
  attributes: Record<string, string>,
  lines: { body: unknown; attributes?: Record<string, unknown>; ageMs?: number }[],
): ReadableLogRecord[] {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(attributes),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  const logger = provider.getLogger('checkout-lib', '1.2.3');
  const ctx = trace.setSpanContext(context.active(), {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: TraceFlags.SAMPLED,
  });
  for (const l of lines) {
    logger.emit({
      body: l.body as string,
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      attributes: l.attributes as Record<string, string>,
      timestamp: Date.now() - (l.ageMs ?? 0),
      context: ctx,
    });
  }
  return memory.getFinishedLogRecords();
}

type Exporter = { export(r: ReadableLogRecord[], cb: (res: { code: number; error?: Error }) => void): void };

function send(exporter: Exporter, records: ReadableLogRecord[]): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => exporter.export(records, resolve));
}

describe('OTLP/HTTP logs receiver with the OpenTelemetry JS SDK', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess();
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  const variants = [
    { name: 'JSON', make: (url: string) => new JsonExporter({ url }), ns: 'shop-json' },
    {
      name: 'JSON gzip',
      make: (url: string) => new JsonExporter({ url, compression: 'gzip' as never }),
      ns: 'shop-jsongz',
    },
    { name: 'protobuf', make: (url: string) => new ProtoExporter({ url }), ns: 'shop-proto' },
    {
      name: 'protobuf gzip',
      make: (url: string) => new ProtoExporter({ url, compression: 'gzip' as never }),
      ns: 'shop-protogz',
    },
  ];
  for (const v of variants) {
    test(`${v.name}: resource attributes become labels, the rest structured metadata`, async () => {
      const records = sdkRecords(
        {
          'service.name': 'checkout',
          'k8s.namespace.name': v.ns,
          'k8s.pod.name': 'checkout-7d9f',
          'k8s.container.name': 'app',
          'host.arch': 'amd64',
        },
        [
          { body: 'order 1 placed', attributes: { 'http.route': '/order', 'user.id': 42 } },
          { body: 'order 2 failed' },
        ],
      );
      // Loki 3's path for one half, OTLP's default path for the other.
      const path = v.name.includes('gzip') ? '/v1/logs' : '/otlp/v1/logs';
      const exporter = v.make(`${server.url}${path}`);
      const res = await send(exporter, records);
      assert.equal(res.code, 0, String(res.error));
      await (exporter as unknown as { shutdown(): Promise<void> }).shutdown();

      // Found under the OTEL name and, through the aliases, under kjournal's own.
      for (const query of [`{k8s_namespace_name="${v.ns}"}`, `{namespace="${v.ns}"}`]) {
        const back = await queryRange(server.url, { query, limit: '10', direction: 'forward' });
        assert.deepEqual(
          allValues(back).map((x) => x[1]),
          ['order 1 placed', 'order 2 failed'],
          query,
        );
      }
      const back = await queryRange(server.url, {
        query: `{namespace="${v.ns}", service_name="checkout"} | trace_id="${TRACE_ID}"`,
        limit: '10',
        direction: 'forward',
      });
      const s = back.data.result[0]!.stream;
      assert.equal(s.k8s_pod_name, 'checkout-7d9f');
      assert.equal(s.k8s_container_name, 'app');
      assert.equal(s.kind, 'containerlog');
      assert.equal(s.span_id, SPAN_ID);
      assert.equal(s.severity_text, 'WARN');
      assert.equal(s.severity_number, '13');
      assert.equal(s.host_arch, 'amd64');
      assert.equal(s.scope_name, 'checkout-lib');
      assert.equal(s.scope_version, '1.2.3');
      assert.equal(s.http_route, '/order');
      assert.equal(s.user_id, '42');
      assert.equal(s.flags, '1');
    });
  }

  test('records refused by the limits: stored the rest, partial success says how many and why', async () => {
    const records = sdkRecords({ 'service.name': 'old', 'k8s.namespace.name': 'partial' }, [
      { body: 'fresh line' },
      // A day ahead: past the creation grace period (10 minutes).
      { body: 'future line', ageMs: -24 * 3600 * 1000 },
    ]);
    // The SDK's exporter takes a partial success as a success (it logs it): the answer itself is
    // read here from the same request made by hand with the SDK's JSON serializer.
    const { JsonLogsSerializer } = await import('@opentelemetry/otlp-transformer');
    const body = Buffer.from(JsonLogsSerializer.serializeRequest(records)!);
    const r = await fetch(`${server.url}/otlp/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(r.status, 200);
    const answer = (await r.json()) as {
      partialSuccess: { rejectedLogRecords: string; errorMessage: string };
    };
    assert.equal(answer.partialSuccess.rejectedLogRecords, '1');
    assert.match(answer.partialSuccess.errorMessage, /timestamp too new/);
    const back = await queryRange(server.url, { query: '{namespace="partial"}', limit: '10' });
    assert.deepEqual(
      allValues(back).map((x) => x[1]),
      ['fresh line'],
    );
  });

  test('a body that is not OTLP: 400 with a google.rpc.Status, nothing stored', async () => {
    const r = await fetch(`${server.url}/otlp/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}},{"traceId":"zz"}]}]}]}',
    });
    assert.equal(r.status, 400);
    const status = (await r.json()) as { code: number; message: string };
    assert.equal(status.code, 3);
    assert.match(status.message, /traceId/);
    const gz = await fetch(`${server.url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
      body: gzipSync(Buffer.from([0x0a, 0xff, 0xff, 0x01])),
    });
    assert.equal(gz.status, 400);
    const text = await http(
      `${server.url}/loki/api/v1/query_range?query=${encodeURIComponent('{service_name="unknown_service"}')}`,
    );
    assert.equal(text.status, 200);
    assert.doesNotMatch(text.text, /"x"/);
  });

  test('a body over the limit is refused with the limit named', async () => {
    const small = await startServerProcess({ args: ['--max-body-size', '1000'] }).catch(() => undefined);
    if (!small) return assert.fail('server with a small body limit did not start');
    try {
      const r = await fetch(`${small.url}/otlp/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ resourceLogs: [], pad: 'x'.repeat(5000) }),
      });
      assert.equal(r.status, 413);
      const status = (await r.json()) as { code: number; message: string };
      assert.match(status.message, /limit is 1000 bytes/);
    } finally {
      await small.stop();
      await removeDir(small.dataDir);
    }
  });

  test('counters: records and bytes accepted and refused for protocol otlp', async () => {
    const m = await http(`${server.url}/metrics`);
    const accepted = /kjournal_receiver_records_total\{protocol="otlp",result="accepted"\} (\d+)/.exec(
      m.text,
    );
    const refused = /kjournal_receiver_records_total\{protocol="otlp",result="refused"\} (\d+)/.exec(m.text);
    assert.ok(accepted && Number(accepted[1]) >= 9, m.text.slice(0, 200));
    assert.ok(refused && Number(refused[1]) >= 1);
    assert.match(m.text, /kjournal_receiver_bytes_total\{protocol="otlp",result="accepted"\} [1-9]/);
  });
});
