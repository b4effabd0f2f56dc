/**
 * The HTTP receivers (OTLP, Elasticsearch bulk, journal upload) with authentication on (a token
 * file and ABAC, plain HTTP on loopback): credentials are checked (a bearer token; for the
 * Elasticsearch API, basic auth whose password is a token), and storing needs `create` on what the
 * records are, as for the Loki push; a refused request stores nothing. A tenant in X-Scope-OrgID
 * needs `create` on it: the receivers' paths are write paths.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, errors as esErrors } from '@elastic/elasticsearch';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import { abacPolicies } from '../helpers/auth-e2e.js';
import { removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const POLICY = abacPolicies([
  { user: 'shop-writer', namespace: 'shop', resource: 'containerlogs', apiGroup: 'core.kjournal' },
  // May read tenants, not create them: a write to a tenant is refused only if the path is a write path.
  { user: 'shop-writer', namespace: '*', resource: 'tenants', apiGroup: 'core.kjournal', readonly: true },
  { user: 'node-writer', namespace: '*', resource: 'logs', apiGroup: 'core.kjournal' },
  ...['containerlogs', 'logs'].map((resource) => ({
    user: 'reader',
    namespace: '*',
    resource,
    apiGroup: 'core.kjournal',
    readonly: true,
  })),
]);

function records(namespace: string, line: string): ReadableLogRecord[] {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'k8s.namespace.name': namespace, 'k8s.pod.name': 'p-1' }),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  provider.getLogger('t').emit({ body: line, timestamp: Date.now() });
  return memory.getFinishedLogRecords();
}

function otlpSend(
  url: string,
  token: string | undefined,
  recs: ReadableLogRecord[],
  headers: Record<string, string> = {},
) {
  const exporter = new OTLPLogExporter({
    url: `${url}/otlp/v1/logs`,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
  return new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(recs, resolve));
}

describe('HTTP receivers with authentication and authorization', () => {
  let server: ServerProcess;
  let dir: string;

  const find = async (text: string): Promise<string[]> => {
    const q = new URLSearchParams({ query: `{kind=~".+"} |= "${text}"`, since: '1h', limit: '100' });
    const r = await fetch(`${server.url}/loki/api/v1/query_range?${q}`, {
      headers: { authorization: 'Bearer reader-token' },
    });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { data: { result: { values: [string, string][] }[] } };
    return body.data.result.flatMap((s) => s.values.map((v) => v[1])).sort();
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kj-recv-auth-'));
    await writeFile(
      join(dir, 'tokens.csv'),
      'shop-token,shop-writer,1\nnode-token,node-writer,2\nreader-token,reader,3\n',
    );
    await writeFile(join(dir, 'policy.jsonl'), POLICY);
    server = await startServerProcess({
      args: [
        '--token-auth-file',
        join(dir, 'tokens.csv'),
        '--authorization-policy-file',
        join(dir, 'policy.jsonl'),
      ],
    });
  });
  after(async () => {
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    await rm(dir, { recursive: true, force: true });
  });

  test('OTLP: bearer token checked, create needed in the namespace the records name', async () => {
    assert.equal((await otlpSend(server.url, 'shop-token', records('shop', 'a1 otlp shop'))).code, 0);
    const bank = await otlpSend(server.url, 'shop-token', records('bank', 'a1 otlp bank'));
    assert.notEqual(bank.code, 0);
    assert.match(String(bank.error), /403|forbidden/i);
    const anonymous = await otlpSend(server.url, undefined, records('shop', 'a1 otlp anonymous'));
    assert.notEqual(anonymous.code, 0);
    assert.match(String(anonymous.error), /401|Unauthorized/i);
    const tenant = await otlpSend(server.url, 'shop-token', records('shop', 'a1 otlp tenant'), {
      'X-Scope-OrgID': 'team-a',
    });
    assert.notEqual(tenant.code, 0);
    assert.deepEqual(await find('a1 '), ['a1 otlp shop']);
  });

  test('Elasticsearch: basic auth with a token as password; a forbidden bulk stores nothing', async () => {
    const client = new Client({ node: server.url, auth: { username: 'any', password: 'shop-token' } });
    try {
      assert.equal((await client.info()).version.number.split('.')[0], '8');
      const ok = await client.bulk({
        operations: [
          { index: { _index: 'k' } },
          { message: 'a2 es shop', kubernetes: { namespace_name: 'shop', pod_name: 'p' } },
        ],
      });
      assert.equal(ok.errors, false);
      await assert.rejects(
        client.bulk({
          operations: [
            { index: { _index: 'k' } },
            { message: 'a2 es shop too', kubernetes: { namespace_name: 'shop', pod_name: 'p' } },
            { index: { _index: 'k' } },
            { message: 'a2 es bank', kubernetes: { namespace_name: 'bank', pod_name: 'p' } },
          ],
        }),
        (err: unknown) => err instanceof esErrors.ResponseError && err.statusCode === 403,
      );
    } finally {
      await client.close();
    }
    const wrong = new Client({ node: server.url, auth: { username: 'any', password: 'nope' } });
    await assert.rejects(
      wrong.info(),
      (err: unknown) => err instanceof esErrors.ResponseError && err.statusCode === 401,
    );
    await wrong.close();
    assert.deepEqual(await find('a2 '), ['a2 es shop']);
  });

  test('journal upload: node logs need create on logs at the cluster scope', async () => {
    const body = `__REALTIME_TIMESTAMP=${Date.now() * 1000}\n_HOSTNAME=n1\nMESSAGE=a3 journal\n\n`;
    const post = (token: string) =>
      fetch(`${server.url}/upload`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.fdo.journal', authorization: `Bearer ${token}` },
        body,
      });
    assert.equal((await post('shop-token')).status, 403);
    assert.deepEqual(await find('a3 '), []);
    assert.equal((await post('node-token')).status, 200);
    assert.deepEqual(await find('a3 '), ['a3 journal']);
  });
});
