/**
 * Bad input gets a clear 4xx, the server keeps serving, and nothing stored changes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  allValues,
  http,
  pushJson,
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

const NOW = BigInt(Date.now()) * 1_000_000n;

describe('kjournal serve: bad input', () => {
  let server: ServerProcess;
  const stored = async () =>
    allValues(await queryRange(server.url, { query: '{app="base"}', limit: '1000' }));
  let baseline: [string, string][];

  before(async () => {
    server = await startServerProcess({ args: ['--max-body-size', '64KiB', '--max-line-size', '1KB'] });
    const r = await pushJson(server.url, {
      streams: [{ stream: { app: 'base' }, values: [[NOW.toString(), 'kept line']] }],
    });
    assert.equal(r.status, 204, r.text);
    baseline = await stored();
    assert.equal(baseline.length, 1);
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  const push = (body: string | Uint8Array, headers: Record<string, string>) =>
    http(`${server.url}/loki/api/v1/push`, { method: 'POST', headers, body });

  const cases: {
    name: string;
    body: string | Uint8Array;
    headers: Record<string, string>;
    status: number;
    message: RegExp;
  }[] = [
    {
      name: 'malformed JSON',
      body: '{"streams": [',
      headers: { 'content-type': 'application/json' },
      status: 400,
      message: /./,
    },
    {
      name: 'missing streams',
      body: '{"foo": 1}',
      headers: { 'content-type': 'application/json' },
      status: 400,
      message: /streams/,
    },
    {
      name: 'malformed protobuf in valid snappy',
      body: new Uint8Array([0x05, 0x10, 0xff, 0xff, 0xff, 0xff]),
      headers: { 'content-type': 'application/x-protobuf' },
      status: 400,
      message: /./,
    },
    {
      name: 'malformed snappy',
      body: new Uint8Array([0x0a, 0xfe, 0xff, 0xff, 0x01, 0x02]),
      headers: { 'content-type': 'application/x-protobuf' },
      status: 400,
      message: /snappy/,
    },
    {
      name: 'snappy block that claims 4 GiB',
      body: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]),
      headers: { 'content-type': 'application/x-protobuf' },
      status: 413,
      message: /too large/,
    },
    // Loki reads every content type but JSON as snappy-compressed protobuf, and fails there; a text
    // body is never a push, so kjournal refuses its type.
    {
      name: 'wrong content type',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
      // Never a push: 415 at once, naming what is taken.
      status: 415,
      message:
        /unsupported Content-Type "text\/plain": \/loki\/api\/v1\/push takes application\/json or application\/x-protobuf/,
    },
    // A byte body, so that fetch adds no Content-Type of its own.
    {
      name: 'no content type',
      body: new TextEncoder().encode('{}'),
      headers: {},
      status: 400,
      message: /media type/,
    },
    {
      name: 'invalid labels',
      body: JSON.stringify({ streams: [{ stream: { '0bad': 'x' }, values: [[NOW.toString(), 'x']] }] }),
      headers: { 'content-type': 'application/json' },
      status: 400,
      message: /couldn't parse labels: 1:2: parse error/,
    },
    {
      name: 'too many labels',
      body: JSON.stringify({
        streams: [
          {
            stream: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`l${i}`, 'v'])),
            values: [[NOW.toString(), 'x']],
          },
        ],
      }),
      headers: { 'content-type': 'application/json' },
      status: 400,
      message: /l0="v"/,
    },
    {
      name: 'timestamp not a number',
      body: JSON.stringify({ streams: [{ stream: { app: 'x' }, values: [['yesterday', 'x']] }] }),
      headers: { 'content-type': 'application/json' },
      status: 400,
      message: /./,
    },
    {
      name: 'entry too far in the future',
      body: JSON.stringify({
        streams: [{ stream: { app: 'future' }, values: [[(NOW + 3_600_000_000_000n).toString(), 'x']] }],
      }),
      headers: { 'content-type': 'application/json' },
      status: 400,
      message: /future/,
    },
    {
      name: 'body over the limit',
      body: JSON.stringify({
        streams: [{ stream: { app: 'big' }, values: [[NOW.toString(), 'x'.repeat(70_000)]] }],
      }),
      headers: { 'content-type': 'application/json' },
      status: 413,
      message: /too large/,
    },
    {
      name: 'bad gzip',
      body: 'not gzip at all',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      status: 400,
      message: /./,
    },
  ];

  for (const c of cases) {
    test(`${c.name}: ${c.status} with a message, nothing stored changes`, async () => {
      const r = await push(c.body, c.headers);
      assert.equal(r.status, c.status, r.text);
      assert.match(r.text, c.message);
      assert.ok(r.text.trim().length > 0, 'the answer says what is wrong');
      assert.deepEqual(await stored(), baseline);
    });
  }

  test('a line over the line limit is a 400 that names the stream', async () => {
    const r = await pushJson(server.url, {
      streams: [{ stream: { app: 'longline' }, values: [[NOW.toString(), 'y'.repeat(2000)]] }],
    });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /app="longline"/);
    assert.deepEqual(allValues(await queryRange(server.url, { query: '{app="longline"}' })), []);
  });

  test('a query that does not parse is a 400 with the position', async () => {
    const r = await http(
      `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app="base"' })}`,
    );
    assert.equal(r.status, 400);
    assert.match(r.text, /parse error at line 1, col 12/);
    const bad = await http(
      `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app="base"}', start: 'soon' })}`,
    );
    assert.equal(bad.status, 400);
    assert.match(bad.text, /could not parse 'start' parameter/);
  });

  test('a request target that is not a URL is a 400, and the server lives on', async () => {
    const { connect } = await import('node:net');
    const url = new URL(server.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(url.port), url.hostname, () => {
        sock.write('GET http://[/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      let data = '';
      sock.on('data', (d) => {
        data += d.toString();
      });
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400/);
    assert.equal((await http(`${server.url}/ready`)).status, 200);
  });

  test('timestamps before 1970 and entries too large to store are 400s', async () => {
    const neg = await pushJson(server.url, { streams: [{ stream: { app: 'neg' }, values: [['-5', 'x']] }] });
    assert.equal(neg.status, 400, neg.text);
    assert.match(neg.text, /too old/);
    const huge = await http(
      `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app="base"}', end: '100000000000000000000000.5' })}`,
    );
    assert.equal(huge.status, 400, huge.text);
    assert.deepEqual(await stored(), baseline);
  });

  test('regular expressions are checked as they run: anchored for matchers', async () => {
    const r = await http(
      `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app=~"\\\\Qx"}' })}`,
    );
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /error parsing regexp/);
    const proto = await queryRange(server.url, { query: '{constructor=~".+"}' });
    assert.equal(proto.data.result.length, 0, 'label names are not looked up on Object.prototype');
  });

  test('unknown paths and methods', async () => {
    assert.equal((await http(`${server.url}/nope`)).status, 404);
    assert.equal((await http(`${server.url}/loki/api/v1/push`)).status, 405);
  });

  test('the server still serves after all of it', async () => {
    assert.equal((await http(`${server.url}/ready`)).status, 200);
    assert.deepEqual(await stored(), baseline);
    assert.match(
      (await http(`${server.url}/metrics`)).text,
      /kjournal_rejected_requests_total\{reason="4\d\d"\} [1-9]/,
    );
  });
});
