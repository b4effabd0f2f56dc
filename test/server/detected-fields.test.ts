/**
 * /loki/api/v1/detected_fields: logfmt and JSON fields of recent lines, with Loki's types.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { detectLine, determineType } from '../../src/query/detected-fields.js';
import {
  http,
  pushJson,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

describe('detected fields: types and parsers', () => {
  test('determineType follows Go: int, float, boolean, duration, bytes, string', () => {
    const table: [string, string][] = [
      ['42', 'int'],
      ['-7', 'int'],
      ['9223372036854775808', 'float'],
      ['1.5', 'float'],
      ['1e3', 'float'],
      ['true', 'boolean'],
      ['F', 'boolean'],
      ['250ms', 'duration'],
      ['1h30m', 'duration'],
      ['10KB', 'bytes'],
      ['1.5 GiB', 'bytes'],
      ['error', 'string'],
      ['', 'string'],
    ];
    for (const [v, t] of table) assert.equal(determineType(v), t, v);
  });

  test('strict logfmt first, JSON when logfmt fails', () => {
    assert.deepEqual(detectLine('level=info took=5ms msg="a b"'), {
      fields: { level: 'info', took: '5ms', msg: 'a b' },
      parser: 'logfmt',
    });
    assert.deepEqual(detectLine('{"level":"error","http":{"status":500}}'), {
      fields: { level: 'error', http_status: '500' },
      parser: 'json',
    });
    assert.deepEqual(detectLine('not "logfmt {'), { fields: {} });
  });
});

describe('/loki/api/v1/detected_fields', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess();
    const now = BigInt(Date.now()) * 1_000_000n;
    const t = (i: number) => (now - BigInt(10 - i) * 1_000_000n).toString();
    const r = await pushJson(server.url, {
      streams: [
        {
          stream: { namespace: 'df', pod: 'a', container: 'c' },
          values: [
            [t(1), 'level=info status=200 took=5ms'],
            [t(2), 'level=error status=500 took=1.5s'],
            [t(3), 'plain text line'],
          ],
        },
        {
          stream: { namespace: 'df', pod: 'b', container: 'c' },
          values: [
            [t(4), '{"level":"warn","size":"10KB","ok":true}'],
            [t(5), '{"level":"info","size":"2MB","ok":false}'],
          ],
        },
        { stream: { namespace: 'kube-df', pod: 'x', container: 'c' }, values: [[t(6), 'infra=yes']] },
      ],
    });
    assert.equal(r.status, 204, r.text);
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  test('fields, types, cardinality and parsers', async () => {
    const q = new URLSearchParams({ query: '{namespace="df"}' });
    const r = await http(`${server.url}/loki/api/v1/detected_fields?${q}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), {
      fields: [
        // "plain text line" is logfmt without values: it adds no field.
        { label: 'level', type: 'string', cardinality: 3, parsers: ['logfmt', 'json'] },
        { label: 'ok', type: 'boolean', cardinality: 2, parsers: ['json'] },
        { label: 'size', type: 'bytes', cardinality: 2, parsers: ['json'] },
        { label: 'status', type: 'int', cardinality: 2, parsers: ['logfmt'] },
        { label: 'took', type: 'duration', cardinality: 2, parsers: ['logfmt'] },
      ],
      limit: 1000,
    });
  });

  test('line_limit, limit and the LokiStack class restriction', async () => {
    const q = new URLSearchParams({ query: '{namespace=~".*df"}', line_limit: '1', limit: '5' });
    const r = await http(`${server.url}/loki/api/v1/detected_fields?${q}`);
    assert.deepEqual(JSON.parse(r.text), {
      fields: [{ label: 'infra', type: 'string', cardinality: 1, parsers: ['logfmt'] }],
      limit: 5,
    });
    const app = await http(
      `${server.url}/api/logs/v1/application/loki/api/v1/detected_fields?${new URLSearchParams({
        query: '{container="c"} |= "infra"',
      })}`,
    );
    assert.deepEqual(JSON.parse(app.text), { fields: [], limit: 1000 });
    const missing = await http(`${server.url}/loki/api/v1/detected_fields`);
    assert.equal(missing.status, 400);
  });
});
