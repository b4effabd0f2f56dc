/**
 * End-to-end over HTTP against an in-process server: discovery (plain and aggregated), OpenAPI,
 * paging with continue tokens over many records sharing one timestamp, watch (live delivery,
 * resume from resourceVersion, bookmarks, 410), an informer-style list-then-watch, tables, and
 * Kubernetes Status errors.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_SERVER_CONFIG, type RunningServer, startServer } from '../../src/server/app.js';
import { KubeWatch } from '../helpers/clickhouse-e2e.js';
import { pushJson, removeDir } from '../helpers/server-process.js';
import { nsNow } from './helpers.js';

const BASE = '/apis/core.kjournal/v1alpha1';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion: string; continue?: string };
  [k: string]: unknown;
}
interface List {
  kind: string;
  metadata: { resourceVersion: string; continue?: string };
  items: Obj[];
}
interface WatchEvent {
  type: string;
  object: Obj & {
    code?: number;
    reason?: string;
    rows?: { cells: unknown[] }[];
    columnDefinitions?: unknown[];
  };
}

/** A watch stream of these events (helpers/clickhouse-e2e.ts KubeWatch). */
const Watch = {
  open: (url: string, headers: Record<string, string> = {}) => KubeWatch.open<WatchEvent>(url, headers),
};

describe('core.kjournal over HTTP', () => {
  let srv: RunningServer;
  let dataDir: string;
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${srv.url}${path}`, { headers });
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      body: (await res.json()) as Record<string, unknown>,
    };
  };
  const push = async (streams: unknown[]) => {
    const r = await pushJson(srv.url, { streams });
    assert.equal(r.status, 204, r.text);
  };
  const line = (ns: string, pod: string, text: string, ts = nsNow()) => ({
    stream: { kind: 'containerlog', namespace: ns, pod, container: 'app' },
    values: [[String(ts), text]],
  });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kj-kube-api-'));
    srv = await startServer({
      ...DEFAULT_SERVER_CONFIG,
      port: 0,
      dataDir,
      maxEntriesLimit: 5000,
      kube: { watchReplayMax: 50, bookmarkIntervalMs: 200 },
      log: () => {},
    });
  });

  after(async () => {
    await srv?.close();
    await removeDir(dataDir);
  });

  test('discovery: /api, /apis (plain and aggregated), group, resources, version, health', async () => {
    const api = await get('/api');
    assert.equal(api.body.kind, 'APIVersions');
    const apis = await get('/apis');
    assert.deepEqual(
      (apis.body.groups as { name: string }[]).map((g) => g.name),
      ['core.kjournal'],
    );
    const agg = await get('/apis', {
      accept:
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
    });
    assert.equal(agg.type, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    assert.equal(agg.body.kind, 'APIGroupDiscoveryList');
    const versions = (
      agg.body.items as {
        versions: { resources: { resource: string; scope: string; shortNames?: string[] }[] }[];
      }[]
    )[0]!.versions;
    const clog = versions[0]!.resources.find((r) => r.resource === 'containerlogs')!;
    assert.equal(clog.scope, 'Namespaced');
    assert.deepEqual(clog.shortNames, ['clog']);
    const aggApi = await get('/api', {
      accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    });
    assert.deepEqual(aggApi.body.items, []);
    const rl = await get(BASE);
    assert.equal(rl.body.kind, 'APIResourceList');
    const res = rl.body.resources as {
      name: string;
      namespaced: boolean;
      verbs: string[];
      shortNames?: string[];
      categories: string[];
    }[];
    assert.deepEqual(
      res.map((r) => [r.name, r.namespaced]),
      [
        ['containerlogs', true],
        ['events', true],
        ['auditevents', false],
        ['logs', false],
      ],
    );
    assert.deepEqual(res[0]!.verbs, ['get', 'list', 'watch']);
    assert.deepEqual(res[2]!.shortNames, ['kaudit']);
    assert.deepEqual(res[0]!.categories, ['kjournal']);
    assert.equal((await get('/apis/core.kjournal')).body.kind, 'APIGroup');
    assert.match(String((await get('/version')).body.gitVersion), /^v\d/);
    for (const p of ['/healthz', '/livez', '/readyz']) {
      const r = await fetch(`${srv.url}${p}`);
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'ok');
    }
  });

  test('OpenAPI v2 and v3 describe every kind with its group-version-kind', async () => {
    const v2 = (await get('/openapi/v2')).body as { definitions: Record<string, Record<string, unknown>> };
    const kinds = Object.values(v2.definitions)
      .flatMap((d) => (d['x-kubernetes-group-version-kind'] as { kind: string }[] | undefined) ?? [])
      .map((g) => g.kind);
    for (const k of ['ContainerLog', 'Event', 'AuditEvent', 'Log', 'ContainerLogList'])
      assert.ok(kinds.includes(k), k);
    const root = (await get('/openapi/v3')).body as { paths: Record<string, { serverRelativeURL: string }> };
    const url = root.paths['apis/core.kjournal/v1alpha1']!.serverRelativeURL;
    assert.match(url, /^\/openapi\/v3\/apis\/core.kjournal\/v1alpha1\?hash=/);
    const v3 = (await get(url)).body as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const audit = v3.components.schemas['io.kjournal.core.v1alpha1.AuditEvent']!;
    for (const f of [
      'auditID',
      'stage',
      'verb',
      'user',
      'objectRef',
      'responseStatus',
      'requestReceivedTimestamp',
      'stageTimestamp',
    ]) {
      assert.ok(audit.properties?.[f], f);
    }
  });

  test('errors are Kubernetes Status objects with the right reason', async () => {
    const cases: [string, number, string, Record<string, string>?][] = [
      [`${BASE}/widgets`, 404, 'NotFound'],
      [`${BASE}/namespaces/shop/auditevents`, 404, 'NotFound'],
      [`${BASE}/namespaces/shop/containerlogs/nope`, 404, 'NotFound'],
      [`${BASE}/containerlogs/web-1.1.1`, 404, 'NotFound'],
      [`${BASE}/containerlogs?limit=x`, 400, 'BadRequest'],
      [`${BASE}/containerlogs?continue=garbage`, 400, 'BadRequest'],
      [`${BASE}/containerlogs?labelSelector=a%20in%20(`, 400, 'BadRequest'],
      [`${BASE}/containerlogs?fieldSelector=spec.x%3D1`, 400, 'BadRequest'],
      [`${BASE}/containerlogs?watch=true&resourceVersion=abc`, 400, 'BadRequest'],
      [`${BASE}/containerlogs?watch=true&sendInitialEvents=true`, 400, 'BadRequest'],
      [`${BASE}/containerlogs`, 400, 'BadRequest', { 'x-scope-orgid': 'a|b' }],
    ];
    for (const [path, code, reason, headers] of cases) {
      const r = await get(path, headers);
      assert.equal(r.status, code, path);
      assert.equal(r.body.kind, 'Status', path);
      assert.equal(r.body.apiVersion, 'v1');
      assert.equal(r.body.status, 'Failure');
      assert.equal(r.body.reason, reason, path);
      assert.equal(r.body.code, code);
      assert.equal(typeof r.body.message, 'string');
    }
    const post = await fetch(`${srv.url}${BASE}/containerlogs`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal(((await post.json()) as { reason: string }).reason, 'MethodNotAllowed');
  });

  test('paging: limit and continue over many records sharing one timestamp never skip or repeat', async () => {
    const ts = nsNow() - 3_600_000_000_000n;
    const values = Array.from({ length: 1300 }, (_, i) => [
      String(ts),
      JSON.stringify({ i, level: i % 3 === 0 ? 'error' : 'info' }),
    ]);
    await push([
      { stream: { kind: 'containerlog', namespace: 'paging', pod: 'p-1', container: 'app' }, values },
    ]);
    const readAll = async (query: string, limit: number) => {
      const seen: number[] = [];
      let cont: string | undefined;
      let pages = 0;
      let rv: string | undefined;
      do {
        const q = `${query}&limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
        const r = await get(`${BASE}/namespaces/paging/containerlogs?${q}`);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        const list = r.body as unknown as List;
        assert.ok(list.items.length <= limit);
        rv ??= list.metadata.resourceVersion;
        assert.equal(list.metadata.resourceVersion, rv, "pages carry the first page's resourceVersion");
        for (const it of list.items) seen.push((it.payload as { i: number }).i);
        cont = list.metadata.continue;
        pages++;
      } while (cont);
      return { seen, pages };
    };
    const all = await readAll('', 97);
    assert.equal(all.seen.length, 1300);
    assert.equal(new Set(all.seen).size, 1300, 'no repeats');
    assert.deepEqual(
      all.seen,
      [...all.seen].sort((a, b) => a - b),
      'stable order',
    );
    assert.equal(all.pages, Math.ceil(1300 / 97));
    // A selector tested in TypeScript: pages fill across store batches.
    const errors = await readAll(`fieldSelector=${encodeURIComponent('payload.level=error')}`, 100);
    assert.deepEqual(
      errors.seen,
      Array.from({ length: 1300 }, (_, i) => i).filter((i) => i % 3 === 0),
    );
    // A token only works for the list that issued it.
    const first = (await get(`${BASE}/namespaces/paging/containerlogs?limit=5`)).body as unknown as List;
    const other = await get(
      `${BASE}/namespaces/other/containerlogs?limit=5&continue=${encodeURIComponent(first.metadata.continue!)}`,
    );
    assert.equal(other.status, 400);
    assert.match(String(other.body.message), /continue key is not valid/);
  });

  test('get by name, and tables for lists and single objects', async () => {
    await push([line('tables', 'web-1', '{"msg":"hello table"}')]);
    const list = (await get(`${BASE}/namespaces/tables/containerlogs`)).body as unknown as List;
    assert.equal(list.kind, 'ContainerLogList');
    const name = list.items[0]!.metadata.name;
    const one = await get(`${BASE}/namespaces/tables/containerlogs/${name}`);
    assert.equal(one.status, 200);
    assert.equal((one.body.metadata as Obj['metadata']).name, name);
    assert.equal(
      (await get(`${BASE}/namespaces/other/containerlogs/${name}`)).status,
      404,
      'namespace must match',
    );
    const table = await get(`${BASE}/namespaces/tables/containerlogs?includeObject=Object`, {
      accept: TABLE,
    });
    assert.equal(table.body.kind, 'Table');
    const rows = table.body.rows as { cells: unknown[]; object: Obj }[];
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0]!.cells.slice(1, 4), ['web-1', 'app', 'hello table']);
    assert.equal(rows[0]!.object.metadata.name, name);
    const single = await get(`${BASE}/namespaces/tables/containerlogs/${name}`, { accept: TABLE });
    assert.equal((single.body.rows as unknown[]).length, 1);
  });

  test('watch: live delivery within a second, resume from resourceVersion, bookmarks', async () => {
    const list = (await get(`${BASE}/namespaces/watch/containerlogs`)).body as unknown as List;
    const rv = list.metadata.resourceVersion;
    const w = await Watch.open(
      `${srv.url}${BASE}/namespaces/watch/containerlogs?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`,
    );
    assert.equal(w.status, 200);
    await new Promise((r) => setTimeout(r, 100));
    await push([line('watch', 'w-1', 'first live'), line('elsewhere', 'x', 'not for this watch')]);
    // Within a second of the acknowledgement.
    const acked = Date.now();
    await w.until((x) => x.added().length === 1, 2_000);
    assert.ok(Date.now() - acked < 1_000, 'within a second');
    const first = w.added()[0]!;
    assert.equal(first.payload, 'first live');
    assert.ok(BigInt(first.metadata.resourceVersion) > BigInt(rv));
    await w.until((x) => x.events.some((e) => e.type === 'BOOKMARK'), 2_000);
    const bookmark = w.events.find((e) => e.type === 'BOOKMARK')!;
    assert.equal(bookmark.object.kind, 'ContainerLog');
    assert.ok(BigInt(bookmark.object.metadata.resourceVersion) >= BigInt(first.metadata.resourceVersion));
    w.close();

    // Missed while disconnected: a watch from the last version replays exactly those, in order.
    await push([line('watch', 'w-1', 'missed 1'), line('watch', 'w-1', 'missed 2')]);
    const again = await Watch.open(
      `${srv.url}${BASE}/namespaces/watch/containerlogs?watch=true&resourceVersion=${first.metadata.resourceVersion}`,
    );
    await again.until((x) => x.added().length === 2, 2_000);
    assert.deepEqual(
      again.added().map((o) => o.payload),
      ['missed 1', 'missed 2'],
    );
    await push([line('watch', 'w-1', 'after resume')]);
    await again.until((x) => x.added().length === 3, 2_000);
    assert.equal(again.added()[2]!.payload, 'after resume');
    const rvs = again.added().map((o) => BigInt(o.metadata.resourceVersion));
    assert.deepEqual(
      rvs,
      [...rvs].sort((a, b) => (a < b ? -1 : 1)),
    );
    again.close();
  });

  test('watch: a version too old is a 410 ERROR event; selectors and tables apply to watches', async () => {
    const list = (await get(`${BASE}/namespaces/old/containerlogs`)).body as unknown as List;
    await push(Array.from({ length: 60 }, (_, i) => line('old', 'o-1', `old ${i}`)));
    const w = await Watch.open(
      `${srv.url}${BASE}/namespaces/old/containerlogs?watch=true&resourceVersion=${list.metadata.resourceVersion}`,
    );
    await w.until((x) => x.ended, 3_000);
    assert.equal(w.events.length, 1);
    assert.equal(w.events[0]!.type, 'ERROR');
    assert.equal(w.events[0]!.object.code, 410);
    assert.equal(w.events[0]!.object.reason, 'Expired');
    assert.match(String(w.events[0]!.object.message), /too old resource version/);

    const sel = encodeURIComponent('pod=keep');
    const t = await Watch.open(
      `${srv.url}${BASE}/namespaces/old/containerlogs?watch=true&fieldSelector=${sel}`,
      { accept: TABLE },
    );
    await new Promise((r) => setTimeout(r, 100));
    await push([
      line('old', 'drop', 'dropped'),
      line('old', 'keep', 'kept 1'),
      line('old', 'keep', 'kept 2'),
    ]);
    await t.until((x) => x.events.length === 2, 2_000);
    assert.equal(t.events[0]!.object.kind, 'Table');
    assert.ok(t.events[0]!.object.columnDefinitions, 'headers with the first event');
    assert.equal(t.events[1]!.object.columnDefinitions, undefined, 'not again');
    assert.deepEqual(
      t.events.map((e) => e.object.rows?.[0]?.cells[3]),
      ['kept 1', 'kept 2'],
    );
    t.close();
  });

  test('an informer-style client: paged list, then watch from the list version, resume after a drop', async () => {
    await push([line('informer', 'i-1', 'existing 1'), line('informer', 'i-1', 'existing 2')]);
    const store = new Map<string, Obj>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = (
        await get(
          `${BASE}/namespaces/informer/containerlogs?limit=1${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
        )
      ).body as unknown as List;
      for (const o of page.items) store.set(o.metadata.name, o);
      rv = page.metadata.resourceVersion;
      cont = page.metadata.continue;
    } while (cont);
    assert.equal(store.size, 2);
    // Pushed between list and watch: the watch from the list's version still sees it.
    await push([line('informer', 'i-1', 'between list and watch')]);
    const w = await Watch.open(
      `${srv.url}${BASE}/namespaces/informer/containerlogs?watch=true&resourceVersion=${rv}&timeoutSeconds=30`,
    );
    await w.until((x) => x.added().length === 1, 2_000);
    for (const o of w.added()) store.set(o.metadata.name, o);
    await push([line('informer', 'i-1', 'newly pushed')]);
    await w.until((x) => x.added().length === 2, 2_000);
    for (const o of w.added()) store.set(o.metadata.name, o);
    w.close();
    assert.deepEqual(
      [...store.values()].map((o) => o.payload),
      ['existing 1', 'existing 2', 'between list and watch', 'newly pushed'],
    );
  });
});

test('closing the server ends open watches promptly', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kj-kube-close-'));
  const srv = await startServer({ ...DEFAULT_SERVER_CONFIG, port: 0, dataDir, log: () => {} });
  try {
    const w = await Watch.open(`${srv.url}${BASE}/containerlogs?watch=true`);
    assert.equal(w.status, 200);
    const t0 = Date.now();
    await srv.close();
    await w.until((x) => x.ended, 2_000);
    assert.ok(Date.now() - t0 < 2_000, `closed in ${Date.now() - t0} ms`);
  } finally {
    await srv.close();
    await removeDir(dataDir);
  }
});
