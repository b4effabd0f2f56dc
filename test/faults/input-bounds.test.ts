/**
 * Fault injection, input bounds (issue 12, items 6 and 10): small hostile bodies must not cost the
 * server gigabytes, and every request gets an answer. A real `kjournal serve` child; its memory is
 * read from /proc/<pid>/status (VmRSS) while the requests run.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import snappy from 'snappy';
import { rssMiB } from '../helpers/process-info.js';
import { removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

/** What any one of these requests may add to the server's resident memory. */
const RSS_BOUND_MB = 150;
/** How fast a refusal must come (generous: CI shares two cores between several jobs). */
const QUICK_MS = 3_000;
const READ_TIMEOUT_MS = 1_500;

let server: ServerProcess;

before(async () => {
  server = await startServerProcess({ args: ['--http-read-timeout', `${READ_TIMEOUT_MS}ms`] });
});

after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
});

/** Runs `work` while sampling the server's RSS; the largest growth over the start, in MB. */
async function rssGrowth<T>(
  work: () => Promise<T>,
): Promise<{ result: T; growthMb: number; baseMb: number }> {
  const pid = server.child.pid!;
  const baseMb = rssMiB(pid);
  let peak = baseMb;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
  }, 10);
  try {
    const result = await work();
    await new Promise((r) => setTimeout(r, 100));
    peak = Math.max(peak, rssMiB(pid));
    return { result, growthMb: peak - baseMb, baseMb };
  } finally {
    clearInterval(timer);
  }
}

async function post(
  path: string,
  body: Buffer | string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - t0 };
}

const GZIP_JSON = { 'content-type': 'application/json', 'content-encoding': 'gzip' };

/** About 60 KB of gzip that inflates to 60 MB of `[`: took the server to 3.4 GB for 12 s. */
const deepBomb = zlib.gzipSync(
  Buffer.concat([Buffer.from('{"streams":[{"stream":{"a":"b"},"values":'), Buffer.alloc(60_000_000, '[')]),
  { level: 9 },
);

test('a 60 KB gzip push of nested JSON is a 400 at once, with flat memory', async () => {
  assert.ok(deepBomb.length < 70_000, `the bomb is small (${deepBomb.length} bytes)`);
  const { result, growthMb, baseMb } = await rssGrowth(() => post('/loki/api/v1/push', deepBomb, GZIP_JSON));
  assert.equal(result.status, 400, result.text);
  assert.match(result.text, /JSON nesting depth exceeds the maximum allowed \(1000\)/);
  assert.ok(result.ms < QUICK_MS, `answered in ${result.ms.toFixed(0)} ms`);
  assert.ok(growthMb < RSS_BOUND_MB, `RSS grew ${growthMb.toFixed(0)} MB over ${baseMb.toFixed(0)} MB`);
});

test('two such bombs at once: both 400, memory still flat', async () => {
  const { result, growthMb, baseMb } = await rssGrowth(() =>
    Promise.all([
      post('/loki/api/v1/push', deepBomb, GZIP_JSON),
      post('/loki/api/v1/push', deepBomb, GZIP_JSON),
    ]),
  );
  for (const r of result) {
    assert.equal(r.status, 400, r.text);
    assert.ok(r.ms < QUICK_MS, `answered in ${r.ms.toFixed(0)} ms`);
  }
  assert.ok(growthMb < RSS_BOUND_MB, `RSS grew ${growthMb.toFixed(0)} MB over ${baseMb.toFixed(0)} MB`);
});

test('flat bombs: 60 KB of gzip JSON "[],[],…" and of protobuf empty entries are 413, memory flat', async () => {
  const flat = zlib.gzipSync(
    Buffer.concat([
      Buffer.from('{"streams":[{"stream":{"a":"b"},"values":['),
      Buffer.alloc(60_000_000, '[],'),
      Buffer.from('[]]}]}'),
    ]),
    { level: 9 },
  );
  // 20 million empty entries (2 bytes each: field 2, length 0) in one stream, snappy then gzip.
  const entries = Buffer.alloc(40_000_000, Buffer.from([0x12, 0x00]));
  const varint = (v: number): Buffer => {
    const out: number[] = [];
    for (; v >= 0x80; v = Math.floor(v / 128)) out.push((v & 0x7f) | 0x80);
    out.push(v);
    return Buffer.from(out);
  };
  const proto = Buffer.concat([Buffer.from([0x0a]), varint(entries.length), entries]);
  const protoBomb = zlib.gzipSync(snappy.compressSync(proto), { level: 9 });
  assert.ok(flat.length < 100_000 && protoBomb.length < 100_000, 'both are small');
  const { result, growthMb, baseMb } = await rssGrowth(() =>
    Promise.all([
      post('/loki/api/v1/push', flat, GZIP_JSON),
      post('/loki/api/v1/push', protoBomb, {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'gzip',
      }),
    ]),
  );
  const [json, pb] = result;
  assert.equal(json.status, 413, json.text);
  assert.match(json.text, /JSON body holds more than 2000000 values/);
  assert.equal(pb.status, 413, pb.text);
  assert.match(pb.text, /a push may hold at most 100000 entries and streams/);
  for (const r of result) assert.ok(r.ms < QUICK_MS, `answered in ${r.ms.toFixed(0)} ms`);
  assert.ok(growthMb < RSS_BOUND_MB, `RSS grew ${growthMb.toFixed(0)} MB over ${baseMb.toFixed(0)} MB`);
});

test('/ingest/audit and /ingest/events: nested JSON is refused as it arrives, memory flat', async () => {
  const deep = Buffer.alloc(16_000_000, '[');
  const { result, growthMb, baseMb } = await rssGrowth(() =>
    Promise.all([
      post('/ingest/audit', deep, { 'content-type': 'application/json' }),
      post('/ingest/events', deep, { 'content-type': 'application/x-ndjson' }),
    ]),
  );
  for (const r of result) {
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /JSON nesting depth exceeds the maximum allowed \(1000\)/);
    assert.ok(r.ms < QUICK_MS, `answered in ${r.ms.toFixed(0)} ms`);
  }
  assert.ok(growthMb < RSS_BOUND_MB, `RSS grew ${growthMb.toFixed(0)} MB over ${baseMb.toFixed(0)} MB`);
  // Compressed bodies are not taken there: 415, not a parse of gzip bytes.
  const gz = await post('/ingest/events', zlib.gzipSync('{}'), GZIP_JSON);
  assert.equal(gz.status, 415, gz.text);
  assert.match(gz.text, /unsupported Content-Encoding "gzip"/);
});

test("a push with curl's default form content type is a 415 at once, 500 of them too", async () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const one = await post('/loki/api/v1/push', '{"streams":[]}', form);
  assert.equal(one.status, 415, one.text);
  assert.match(
    one.text,
    /unsupported Content-Type "application\/x-www-form-urlencoded": \/loki\/api\/v1\/push takes application\/json or application\/x-protobuf/,
  );
  // Before: each such push waited for a body already consumed, holding its socket for good.
  const t0 = performance.now();
  const all = await Promise.all(
    Array.from({ length: 500 }, () => post('/loki/api/v1/push', 'a=b', form).then((r) => r.status)),
  );
  assert.deepEqual(new Set(all), new Set([415]));
  assert.ok(performance.now() - t0 < 10_000, 'all answered');
  // The LokiStack push path and other types that are never a push answer the same way.
  for (const [path, type] of [
    ['/api/logs/v1/application/loki/api/v1/push', 'application/x-www-form-urlencoded'],
    ['/loki/api/v1/push', 'multipart/form-data; boundary=x'],
    ['/loki/api/v1/push', 'text/plain'],
  ] as const) {
    const r = await post(path, 'x', { 'content-type': type });
    assert.equal(r.status, 415, `${path} ${type}: ${r.text}`);
  }
});

test('read endpoints take a POSTed form, and answer 415 for another body type', async () => {
  const q = new URLSearchParams({ query: '{a="b"}', limit: '1' }).toString();
  const form = await post('/loki/api/v1/query_range', q, {
    'content-type': 'application/x-www-form-urlencoded',
  });
  assert.equal(form.status, 200, form.text);
  const json = await post('/loki/api/v1/query_range', '{"query":"{a=\\"b\\"}"}', {
    'content-type': 'application/json',
  });
  assert.equal(json.status, 415, json.text);
  assert.match(json.text, /takes application\/x-www-form-urlencoded/);
});

/** Opens a raw connection, writes `parts` (with pauses between them), returns what the server said. */
function rawExchange(
  parts: string[],
  pauseMs: number,
  waitMs: number,
): Promise<{ text: string; closed: boolean; ms: number }> {
  const { port, hostname } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = connect(Number(port), hostname);
    let text = '';
    let closed = false;
    const give = () => resolve({ text, closed, ms: performance.now() - t0 });
    const timer = setTimeout(() => {
      socket.destroy();
      give();
    }, waitMs);
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      give();
    });
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const p of parts) {
        if (socket.destroyed) return;
        socket.write(p);
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    });
  });
}

test('a body that never arrives whole gets a 408 and the socket back within the read timeout', async () => {
  const head =
    'POST /loki/api/v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
  const r = await rawExchange([head, '{"streams":'], 10, 20_000);
  assert.ok(r.closed, 'the server closed the connection');
  assert.match(r.text, /^HTTP\/1\.1 408 /);
  assert.ok(r.ms < READ_TIMEOUT_MS + 3_000, `closed after ${r.ms.toFixed(0)} ms`);
});

test('headers sent one byte at a time (slowloris) are cut off at the read timeout', async () => {
  const head = 'GET /ready HTTP/1.1\r\nHost: x\r\nX-Slow: ';
  const parts = [head, ...'abcdefghijklmnopqrstuvwxyz'.split('')];
  const r = await rawExchange(parts, 300, 20_000);
  assert.ok(r.closed, 'the server closed the connection');
  assert.ok(r.ms < READ_TIMEOUT_MS + 3_000, `closed after ${r.ms.toFixed(0)} ms`);
});

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const RANGE = 'count_over_time({app="a"}[5m])';
const TOO_DEEP = /query too complex: it nests deeper than 256 levels/;
const TOO_MANY = /query too complex: more than 1000 binary operations/;

test('LogQL: 100,000 nested parentheses or 12,000 + terms are a 400 naming the limit, on every query path', async () => {
  const deep = `${'('.repeat(100_000)}${RANGE}${')'.repeat(100_000)}`;
  const deepLog = `${'('.repeat(100_000)}{app="a"}${')'.repeat(100_000)}`;
  const many = Array(12_000).fill('1').join(' + ');
  const cases: [string, string, RegExp][] = [
    ['/loki/api/v1/query', deep, TOO_DEEP],
    ['/loki/api/v1/query_range', deep, TOO_DEEP],
    ['/loki/api/v1/query', many, TOO_MANY],
    ['/loki/api/v1/query_range', many, TOO_MANY],
    ['/api/logs/v1/application/loki/api/v1/query_range', deep, TOO_DEEP],
    ['/api/logs/v1/application/loki/api/v1/query', many, TOO_MANY],
    ['/loki/api/v1/detected_fields', deepLog, TOO_DEEP],
    ['/loki/api/v1/series', deepLog, TOO_DEEP],
    ['/loki/api/v1/index/volume', deepLog, TOO_DEEP],
  ];
  for (const [path, query, message] of cases) {
    const param = path.endsWith('/series') ? 'match[]' : 'query';
    const r = await post(path, new URLSearchParams({ [param]: query }).toString(), FORM);
    assert.equal(r.status, 400, `${path}: ${r.text.slice(0, 200)}`);
    assert.match(r.text, message, path);
  }
  // GET-only paths carry the query in the URL (16 KB of headers at most): 300 levels suffice.
  const urlDeep = `${'('.repeat(300)}{app="a"}${')'.repeat(300)}`;
  const korrel8r = await fetch(
    `${server.url}/api/v1/korrel8r/logs?${new URLSearchParams({ query: `log:application:${urlDeep}` })}`,
  );
  assert.equal(korrel8r.status, 400);
  assert.match(await korrel8r.text(), TOO_DEEP);
  const tail = await rawExchange(
    [
      `GET /loki/api/v1/tail?${new URLSearchParams({ query: urlDeep })} HTTP/1.1\r\nHost: x\r\n` +
        'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    ],
    10,
    10_000,
  );
  assert.match(tail.text, /^HTTP\/1\.1 400 /);
  assert.match(tail.text, TOO_DEEP);
});

test('a stored line nested 100,000 levels deep does not make kube lists fail', async () => {
  const now = BigInt(Date.now()) * 1_000_000n;
  const deep = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  for (const kind of ['containerlog', 'auditevent', 'log']) {
    const r = await post(
      '/loki/api/v1/push',
      JSON.stringify({
        streams: [
          {
            stream: { kind, namespace: 'deep', pod: 'p', container: 'c' },
            values: [[String(now - 1_000_000_000n), deep]],
          },
        ],
      }),
      { 'content-type': 'application/json' },
    );
    assert.equal(r.status, 204, r.text);
  }
  for (const path of [
    '/apis/core.kjournal/v1alpha1/namespaces/deep/containerlogs',
    '/apis/core.kjournal/v1alpha1/auditevents',
    '/apis/core.kjournal/v1alpha1/logs',
  ]) {
    const r = await fetch(`${server.url}${path}`);
    const text = await r.text();
    // Before: 500 "Maximum call stack size exceeded", for every list that held the line.
    assert.equal(r.status, 200, `${path}: ${text.slice(0, 300)}`);
    const list = JSON.parse(text) as { items: unknown[] };
    assert.equal(list.items.length, 1, path);
  }
});

test("an Upgrade the server does not take (curl --http2's h2c) is ignored: the request is answered as HTTP/1.1", async () => {
  const up =
    'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n';
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = JSON.stringify({ streams: [{ stream: { app: 'h2c' }, values: [[String(now), 'via h2c']] }] });
  // The body arrives in three pieces, after the head: the re-read request still gets all of it.
  const push = await rawExchange(
    [
      `POST /loki/api/v1/push HTTP/1.1\r\nHost: x\r\n${up}Content-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
      body.slice(10, 30),
      body.slice(30),
    ],
    50,
    1_000,
  );
  // Before: 404 on every path.
  assert.match(push.text, /^HTTP\/1\.1 204 /);
  const ready = await rawExchange([`GET /ready HTTP/1.1\r\nHost: x\r\n${up}\r\n`], 10, 1_000);
  assert.match(ready.text, /^HTTP\/1\.1 200 /);
  const r = await fetch(
    `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app="h2c"}', limit: '10' })}`,
  );
  const found = (await r.json()) as { data: { result: { values: [string, string][] }[] } };
  assert.deepEqual(
    found.data.result.flatMap((s) => s.values.map((v) => v[1])),
    ['via h2c'],
  );
});
