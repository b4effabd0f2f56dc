/**
 * The web page's static files from the real server (src/api/ui/static.ts): content types, caching
 * (page no-cache with an ETag and 304; hashed assets immutable), gzip when accepted, HEAD, no path
 * out of the built files, open without credentials (api/http/auth-gate.ts), and `--ui=false`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { loadUiFiles } from '../../../src/api/ui/static.js';
import { removeDir, type ServerProcess, startServerProcess } from '../../helpers/server-process.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request with the path sent as it is (fetch would normalise `..`). */
function raw(
  url: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<Raw> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the web page files', () => {
  let server: ServerProcess;
  let script = '';
  let style = '';
  before(async () => {
    server = await startServerProcess();
    const page = await raw(server.url, '/');
    script = /src="\/ui\/assets\/([^"]+\.js)"/.exec(page.body.toString())?.[1] ?? '';
    style = /href="\/ui\/assets\/([^"]+\.css)"/.exec(page.body.toString())?.[1] ?? '';
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  test('/ and /ui/ answer the page, no-cache with an ETag; a matching If-None-Match is a 304', async () => {
    for (const path of ['/', '/ui', '/ui/', '/ui/?view=explore&query=%7Ba%3D%22b%22%7D']) {
      const r = await raw(server.url, path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
      assert.match(r.body.toString(), /<div id="app"><\/div>/);
    }
    const first = await raw(server.url, '/');
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[\w-]+"$/);
    const again = await raw(server.url, '/', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    const head = await raw(server.url, '/ui/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  test('the hashed assets are served with their types, immutable, gzipped when accepted', async () => {
    assert.match(script, /^main-\w+\.js$/);
    assert.match(style, /^main-\w+\.css$/);
    const js = await raw(server.url, `/ui/assets/${script}`);
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['content-encoding'], undefined);
    const gz = await raw(server.url, `/ui/assets/${script}`, { headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers.vary, 'Accept-Encoding');
    assert.deepEqual(gunzipSync(gz.body), js.body);
    assert.ok(
      gz.body.length < 250 * 1024,
      `the script is ${gz.body.length} bytes gzipped: the budget is 250 KB`,
    );
    const css = await raw(server.url, `/ui/assets/${style}`, { headers: { 'accept-encoding': 'gzip;q=0' } });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(css.headers['content-encoding'], undefined, 'q=0 refuses gzip');
  });

  test('no path leads out of the built files', async () => {
    for (const path of [
      '/ui/assets/..%2F..%2F..%2Fpackage.json',
      '/ui/assets/%2e%2e%2findex.html',
      '/ui/assets/../../package.json',
      '/ui/../package.json',
      '/ui/assets/index.html',
      '/ui/assets/',
      '/ui/index.html',
      '/ui/assets/%00',
    ]) {
      const r = await raw(server.url, path);
      assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
      assert.doesNotMatch(r.body.toString(), /"name": "kjournal"|<div id="app">/, path);
    }
    // Dot segments resolve as the URL standard has them, within the page's paths: `/ui/assets/..` is `/ui/`.
    const dots = await raw(server.url, '/ui/assets/..');
    assert.equal(dots.status, 200);
    assert.match(dots.body.toString(), /<div id="app">/);
  });

  test('a page that was not built is said so; --ui=false serves no page', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'kj-ui-empty-'));
    assert.equal(loadUiFiles(empty), undefined);
    await rm(empty, { recursive: true });
    const off = await startServerProcess({ args: ['--ui=false'] });
    try {
      for (const path of ['/ui/', `/ui/assets/${script}`]) {
        const r = await raw(off.url, path);
        assert.equal(r.status, 404, path);
      }
      // `/` is then only the Elasticsearch API's root (a shipper's probe), never the page.
      const root = await raw(off.url, '/', { headers: { accept: 'text/html' } });
      assert.doesNotMatch(String(root.headers['content-type'] ?? ''), /text\/html/);
      assert.equal((await raw(off.url, '/ready')).status, 200);
    } finally {
      await off.stop();
      await removeDir(off.dataDir);
    }
  });
});
