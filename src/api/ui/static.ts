/**
 * @module The web page's static files (issue 18): `/` and `/ui/` answer the page, `/ui/assets/<file>`
 * its scripts and styles, as built by `web/build.mjs` into `dist/web`. The files are read once, when
 * the server starts, into a table by name: a request names an entry of that table or gets 404, so no
 * path from a request ever reaches the file system (no traversal). The page itself is `no-cache`
 * with an ETag (a new version is seen at once); the assets carry a content hash in their names and
 * are `immutable` for a year, as esbuild's `[name]-[hash]` names are meant to be served. Text files
 * are gzipped once, for clients that accept it. The page talks only to the server's other APIs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { isElasticsearchRootProbe } from '../http/receiver-paths.js';
import type { ErrorHandler, Handler, Reply, RequestContext, Router } from '../http/router.js';
import { text } from '../http/router.js';

/** Where the build puts the page: dist/web, beside dist/src (this file is dist/src/api/ui/static.js). */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../web', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

interface StaticFile {
  readonly body: Buffer;
  readonly gzip?: Buffer;
  readonly type: string;
  readonly etag: string;
  readonly cache: string;
}

const PAGE_CACHE = 'no-cache';
const ASSET_CACHE = 'public, max-age=31536000, immutable';
/** Headers every answer of the page carries (the page loads nothing from elsewhere). */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
};

function load(path: string, cache: string): StaticFile {
  const body = readFileSync(path);
  const type = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const compressible =
    type.startsWith('text/') || type.startsWith('application/json') || type === 'image/svg+xml';
  return { body, type, etag, cache, ...(compressible && body.length > 1024 ? { gzip: gzipSync(body) } : {}) };
}

/** The page and its assets, read from `dir`; undefined when the page was not built. */
export function loadUiFiles(dir: string): { page: StaticFile; assets: Map<string, StaticFile> } | undefined {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return undefined;
  const assets = new Map<string, StaticFile>();
  const assetDir = join(dir, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) {
      const path = join(assetDir, name);
      if (statSync(path).isFile()) assets.set(name, load(path, ASSET_CACHE));
    }
  }
  return { page: load(index, PAGE_CACHE), assets };
}

function accepts(ctx: RequestContext, coding: string): boolean {
  const header = String(ctx.req.headers['accept-encoding'] ?? '');
  return header
    .split(',')
    .map((p) => p.trim().split(';'))
    .some(([name, q]) => name?.trim().toLowerCase() === coding && !/^\s*q=0(?:\.0*)?\s*$/.test(q ?? ''));
}

function reply(ctx: RequestContext, file: StaticFile): Reply {
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'content-type': file.type,
    'cache-control': file.cache,
    etag: file.etag,
    vary: 'Accept-Encoding',
  };
  const match = String(ctx.req.headers['if-none-match'] ?? '');
  if (match.split(',').some((t) => t.trim() === file.etag || t.trim() === `W/${file.etag}`)) {
    return { status: 304, headers };
  }
  if (file.gzip && accepts(ctx, 'gzip')) {
    return { status: 200, headers: { ...headers, 'content-encoding': 'gzip' }, body: file.gzip };
  }
  return { status: 200, headers, body: file.body };
}

const GET_HEAD = ['GET', 'HEAD'];

/**
 * Adds the page's routes: `/`, `/ui` (and `/ui/`), `/ui/assets/{file}`. When the page was not built
 * (a checkout without `npm run build:web`), `/` says so instead of the plain 404.
 */
export function registerUi(
  router: Router,
  opts: {
    dir?: string;
    onError: ErrorHandler;
    /**
     * What `GET /` answers an Elasticsearch client's probe (http/receiver-paths.ts): the
     * Elasticsearch API's root document, which shippers ask for before they send (api/elasticsearch).
     */
    root?: { readonly handler: Handler; readonly onError: ErrorHandler };
  },
): void {
  const files = loadUiFiles(opts.dir ?? DEFAULT_UI_DIR);
  // The gate leaves these paths open and decided (api/http/auth-gate.ts): they hold no data.
  const page = async (ctx: RequestContext): Promise<Reply> => {
    if (!files) return text(404, 'the web page was not built: run `npm run build:web`\n');
    return reply(ctx, files.page);
  };
  const root = async (ctx: RequestContext): Promise<Reply> => {
    if (opts.root && isElasticsearchRootProbe(ctx.req)) {
      try {
        return await opts.root.handler(ctx);
      } catch (err) {
        return opts.root.onError(err, ctx);
      }
    }
    return page(ctx);
  };
  const asset = async (ctx: RequestContext): Promise<Reply> => {
    const file = files?.assets.get(ctx.pathParams?.file ?? '');
    return file ? reply(ctx, file) : text(404, '404 page not found\n');
  };
  router
    .add(GET_HEAD, '/', root, opts.onError)
    .add(GET_HEAD, '/ui', page, opts.onError)
    .add(GET_HEAD, '/ui/assets/{file}', asset, opts.onError);
}
