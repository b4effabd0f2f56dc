/**
 * The cap of a core.kjournal list that leaves its size to the server (`--kube-list-max-items`),
 * over HTTP against an in-process server: which requests are capped (no limit, 0, kubectl's
 * default 500) and which page through everything (any other limit, continue), the newest items in
 * the usual order across the pages of a capped list, and the Warning header in kube-apiserver's
 * format.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_SERVER_CONFIG, type RunningServer, startServer } from '../../src/server/app.js';
import { pushJson, removeDir } from '../helpers/server-process.js';
import { nsNow } from './helpers.js';

const CAP = 40;
const PAGE_MAX = 15;
const N = 100;
const BASE = '/apis/core.kjournal/v1alpha1/namespaces';

interface List {
  metadata: { continue?: string };
  items: { payload: string }[];
  rows?: unknown[];
}

describe('the cap of a list without a limit', () => {
  let srv: RunningServer;
  let dataDir: string;
  const get = async (path: string, accept = 'application/json') => {
    const res = await fetch(`${srv.url}${path}`, { headers: { accept } });
    assert.equal(res.status, 200, path);
    return { warning: res.headers.get('warning'), body: (await res.json()) as List };
  };
  /** Every page of a list from `path`, following continue; the warnings of each page. */
  const all = async (path: string) => {
    const items: string[] = [];
    const warnings: (string | null)[] = [];
    let token: string | undefined;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page = await get(token ? `${path}${sep}continue=${encodeURIComponent(token)}` : path);
      items.push(...page.body.items.map((i) => i.payload));
      warnings.push(page.warning);
      token = page.body.metadata.continue;
    } while (token);
    return { items, warnings };
  };
  const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}`);

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kj-list-cap-'));
    srv = await startServer({
      ...DEFAULT_SERVER_CONFIG,
      port: 0,
      dataDir,
      maxEntriesLimit: PAGE_MAX,
      kube: { listMaxItems: CAP },
      log: () => {},
    });
    const now = nsNow();
    const values = (n: number) =>
      Array.from({ length: n }, (_, i) => [String(now - BigInt(n + 5 - i) * 1_000_000n), `line ${i}`]);
    for (const [ns, n] of [
      ['cap', N],
      ['small', CAP],
    ] as const) {
      const r = await pushJson(srv.url, {
        streams: [{ stream: { namespace: ns, pod: 'p-1', container: 'c', app: 'web' }, values: values(n) }],
      });
      assert.equal(r.status, 204, r.text);
    }
  });

  after(async () => {
    await srv?.close();
    await removeDir(dataDir);
  });

  test('no limit, 0 or 500: the newest items, oldest first, in pages, with one Warning', async () => {
    for (const q of ['', '?limit=0', '?limit=500']) {
      const { items, warnings } = await all(`${BASE}/cap/containerlogs${q}`);
      assert.deepEqual(items, lines(N - CAP, N), q);
      // Pages of at most --max-entries-limit; the first carries the warning.
      assert.equal(warnings.length, Math.ceil(CAP / PAGE_MAX), q);
      assert.match(
        warnings[0] ?? '',
        new RegExp(
          `^299 - "this list has ${N} containerlogs; showing the newest ${CAP}, since \\d{4}-[\\d-]+T[\\d:.]+Z \\(the server's --kube-list-max-items\\)\\. Narrow it with --field-selector metadata\\.creationTimestamp>=TIME`,
        ),
        q,
      );
      assert.deepEqual(warnings.slice(1), warnings.slice(1).fill(null), q);
    }
  });

  test('a list within the cap is whole and has no warning', async () => {
    const { items, warnings } = await all(`${BASE}/small/containerlogs`);
    assert.deepEqual(items, lines(0, CAP));
    assert.deepEqual(warnings, warnings.slice().fill(null));
  });

  test('any other limit pages through everything', async () => {
    for (const limit of [7, 499, 501]) {
      const { items, warnings } = await all(`${BASE}/cap/containerlogs?limit=${limit}`);
      assert.deepEqual(items, lines(0, N), `limit=${limit}`);
      assert.ok(
        warnings.every((w) => w === null),
        `limit=${limit}`,
      );
    }
  });

  test('selectors the store cannot count: "more than", with the bound', async () => {
    const page = await get(`${BASE}/cap/containerlogs?labelSelector=app%3Dweb`);
    assert.equal(page.body.items.length, Math.min(CAP, PAGE_MAX));
    assert.match(
      page.warning ?? '',
      new RegExp(`^299 - "this list has more than ${CAP} containerlogs \\(up to ${N}\\); showing`),
    );
  });

  test('tables carry the warning too', async () => {
    const page = await get(
      `${BASE}/cap/containerlogs?limit=500`,
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    );
    assert.equal(page.body.rows?.length, PAGE_MAX);
    assert.match(page.warning ?? '', /^299 - "this list has 100 containerlogs/);
  });
});
