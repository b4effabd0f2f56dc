/**
 * @module The Store contract: every implementation runs this suite unchanged, with the factory
 * that test/store/factories.ts lists for it (contract.test.ts runs it for each).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { normalizeLabels } from '../../src/model/normalize.js';
import type { LogRecord } from '../../src/model/record.js';
import { followAppends } from '../../src/store/follow.js';
import type { AppendedEntries, EntryQuery, Store, StoredEntry } from '../../src/store/store.js';
import type { TestStore, TestStoreFactory } from './factories.js';

const T0 = 1_763_900_000_123_456_789n; // 2025-11-23T12:13:20.123456789Z, not round on purpose
const SEC = 1_000_000_000n;
const DAY = 86_400n * SEC;

export function rec(labels: Record<string, string>, ts: bigint, body: string, attributes = {}): LogRecord {
  return { timestamp: ts, observedTimestamp: ts + 5n, labels: normalizeLabels(labels), attributes, body };
}

export async function collect(
  store: Store,
  q: Partial<EntryQuery> & { tenant?: string },
): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  for await (const batch of store.entries({
    tenant: 'fake',
    start: 0n,
    end: T0 + 1000n * DAY,
    matchers: [],
    lineFilters: [],
    direction: 'forward',
    ...q,
  })) {
    out.push(...batch);
  }
  return out;
}

const shop = { namespace: 'shop', pod: 'checkout-1', container: 'app' };
const kube = {
  kubernetes_namespace_name: 'kube-system',
  kubernetes_pod_name: 'dns-1',
  kubernetes_container_name: 'dns',
};
const node = { node: 'node-1', source: 'journal' };

export function storeContract(factory: TestStoreFactory): void {
  describe(`Store contract: ${factory.name}`, () => {
    let ctx: TestStore;
    let store: Store;

    before(async () => {
      // Background work runs often: reads meet conversion and compaction at work.
      ctx = await factory.create({ backgroundMs: 50 });
      store = ctx.store;
      await store.append('fake', [
        rec(shop, T0, '{"level":"info","msg":"order placed","user":"ana"}'),
        rec(shop, T0 + 1n, 'GET /cart 200 timeout=false'),
        rec(shop, T0 + 2n * SEC, 'payment timeout after 3s', { trace_id: 'abc123' }),
        rec(kube, T0 + 3n * SEC, 'dns: lookup failed ERROR'),
        rec(node, T0 + 4n * SEC, 'kernel: eth0 link up'),
      ]);
      await store.append('other', [rec(shop, T0, 'secret of another tenant')]);
    });
    after(async () => {
      await store.close();
      await ctx.cleanup();
    });

    test('reads back every entry in order with exact nanosecond timestamps', async () => {
      const got = await collect(store, {});
      assert.deepEqual(
        got.map((e) => e.timestamp),
        [T0, T0 + 1n, T0 + 2n * SEC, T0 + 3n * SEC, T0 + 4n * SEC],
      );
      assert.equal(got[0]!.observedTimestamp, T0 + 5n);
      assert.equal(got[0]!.body, '{"level":"info","msg":"order placed","user":"ana"}');
      assert.deepEqual(got[2]!.attributes, { trace_id: 'abc123' });
      assert.deepEqual(got[1]!.attributes, {});
    });

    test('labels carry kind and class', async () => {
      const got = await collect(store, {});
      assert.equal(got[0]!.stream.labels.kind, 'containerlog');
      assert.equal(got[0]!.stream.labels.class, 'application');
      assert.equal(got[3]!.stream.labels.class, 'infrastructure');
      assert.equal(got[4]!.stream.labels.kind, 'log');
    });

    test('backward direction and limit return the newest first', async () => {
      const got = await collect(store, { direction: 'backward', limit: 2 });
      assert.deepEqual(
        got.map((e) => e.body),
        ['kernel: eth0 link up', 'dns: lookup failed ERROR'],
      );
    });

    test('time range is half-open [start, end)', async () => {
      const got = await collect(store, { start: T0 + 1n, end: T0 + 3n * SEC });
      assert.deepEqual(
        got.map((e) => e.timestamp),
        [T0 + 1n, T0 + 2n * SEC],
      );
    });

    test('stream matchers =, !=, =~, !~ with anchored regular expressions', async () => {
      const ns = async (op: '=' | '!=' | '=~' | '!~', value: string) =>
        (await collect(store, { matchers: [{ name: 'namespace', op, value }] })).length;
      assert.equal(await ns('=', 'shop'), 3);
      assert.equal(await ns('!=', 'shop'), 2);
      assert.equal(await ns('=~', 'sh.*'), 3);
      assert.equal(await ns('=~', 'ho'), 0, 'regex is anchored');
      assert.equal(await ns('!~', 'kube-.*'), 4);
      assert.equal(await ns('=', ''), 1, 'a missing label matches the empty string');
    });

    test('Kubernetes metadata is found under plain, Viaq and OTEL names', async () => {
      for (const name of ['namespace', 'kubernetes_namespace_name', 'k8s_namespace_name']) {
        const got = await collect(store, { matchers: [{ name, op: '=', value: 'kube-system' }] });
        assert.equal(got.length, 1, name);
        const shopGot = await collect(store, { matchers: [{ name, op: '=', value: 'shop' }] });
        assert.equal(shopGot.length, 3, name);
      }
      const byClass = await collect(store, {
        matchers: [{ name: 'log_type', op: '=', value: 'application' }],
      });
      assert.equal(byClass.length, 3);
    });

    test('line filters |=, !=, |~, !~ and or-alternatives', async () => {
      const lf = async (filters: EntryQuery['lineFilters']) =>
        (await collect(store, { lineFilters: filters })).map((e) => e.timestamp);
      assert.equal((await lf([{ op: '|=', value: 'timeout' }])).length, 2);
      assert.equal(
        (await lf([{ op: '|=', value: 'TIMEOUT' }])).length,
        0,
        'substring match is case-sensitive',
      );
      assert.equal((await lf([{ op: '!=', value: 'timeout' }])).length, 3);
      assert.equal((await lf([{ op: '|~', value: '(?i)error' }])).length, 1);
      assert.equal((await lf([{ op: '|~', value: 'time.*after' }])).length, 1);
      assert.equal((await lf([{ op: '!~', value: '^GET' }])).length, 4);
      assert.equal((await lf([{ op: '|=', value: 'kernel', or: ['dns'] }])).length, 2);
      assert.equal((await lf([{ op: '!=', value: 'kernel', or: ['dns'] }])).length, 3);
      assert.equal((await lf([{ op: '|=', value: '' }])).length, 5);
      assert.equal(
        (
          await lf([
            { op: '|=', value: 'timeout' },
            { op: '!=', value: 'GET' },
          ])
        ).length,
        1,
      );
    });

    test('tenants are isolated', async () => {
      const other = await collect(store, { tenant: 'other' });
      assert.deepEqual(
        other.map((e) => e.body),
        ['secret of another tenant'],
      );
      assert.equal((await collect(store, { tenant: 'nobody' })).length, 0);
      const fake = await collect(store, {});
      assert.ok(fake.every((e) => e.body !== 'secret of another tenant'));
    });

    test('count matches entries', async () => {
      const sel = { tenant: 'fake', start: 0n, end: T0 + DAY, matchers: [], lineFilters: [] };
      assert.equal(await store.count(sel), 5);
      assert.equal(await store.count({ ...sel, lineFilters: [{ op: '|=', value: 'timeout' }] }), 2);
      assert.equal(await store.count({ ...sel, tenant: 'other' }), 1);
    });

    test('countByStream counts entries and body bytes per stream', async () => {
      const sel = { tenant: 'fake', start: 0n, end: T0 + DAY, matchers: [], lineFilters: [] };
      const counts = await store.countByStream(sel);
      const shopCount = counts.find((c) => c.stream.labels.namespace === 'shop');
      assert.ok(shopCount);
      assert.equal(shopCount.entries, 3);
      const shopBytes = [
        '{"level":"info","msg":"order placed","user":"ana"}',
        'GET /cart 200 timeout=false',
        'payment timeout after 3s',
      ].reduce((n, b) => n + Buffer.byteLength(b), 0);
      assert.equal(shopCount.bytes, shopBytes);
      assert.equal(counts.length, 3);
      const filtered = await store.countByStream({ ...sel, lineFilters: [{ op: '|=', value: 'kernel' }] });
      assert.deepEqual(
        filtered.map((c) => [c.stream.labels.node, c.entries]),
        [['node-1', 1]],
      );
    });

    test('countByBucket counts per stream, metadata and left-open bucket', async () => {
      const W = 60n * SEC;
      const O = T0 - (T0 % W); // a round origin
      const a = { app: 'buckets', pod: 'a' };
      const b = { app: 'buckets', pod: 'b' };
      await store.append('buckets', [
        rec(a, O, 'at the origin: in no bucket'),
        rec(a, O + 1n, 'first ns of bucket 0'),
        rec(a, O + W, 'last ns of bucket 0'),
        rec(a, O + W + 1n, 'first ns of bucket 1', { trace_id: 't1' }),
        rec(a, O + 2n * W, 'last ns of bucket 1', { trace_id: 't1' }),
        rec(b, O + 3n * W, 'bucket 2 of b'),
        rec(b, O + 3n * W + 1n, 'bucket 3 of b, after the selection'),
      ]);
      const sel = { tenant: 'buckets', start: O, end: O + 3n * W + 1n, matchers: [], lineFilters: [] };
      const rows = (got: Awaited<ReturnType<Store['countByBucket']>>) =>
        got
          .map(
            (c) =>
              `${c.stream.labels.pod} ${JSON.stringify(c.attributes)} ${c.bucket} ${c.entries} ${c.bytes}`,
          )
          .sort();
      const bytes = (...bodies: string[]) => bodies.reduce((n, s) => n + Buffer.byteLength(s), 0);
      const expected = [
        `a {"trace_id":"t1"} 1 2 ${bytes('first ns of bucket 1', 'last ns of bucket 1')}`,
        `a {} 0 2 ${bytes('first ns of bucket 0', 'last ns of bucket 0')}`,
        `b {} 2 1 ${bytes('bucket 2 of b')}`,
      ];
      assert.deepEqual(rows(await store.countByBucket(sel, O, W)), expected);
      // Buckets as wide as the whole range, matchers and line filters apply as everywhere.
      assert.deepEqual(
        rows(
          await store.countByBucket(
            {
              ...sel,
              matchers: [{ name: 'pod', op: '=', value: 'a' }],
              lineFilters: [{ op: '|=', value: 'last' }],
            },
            O,
            3n * W,
          ),
        ),
        [
          `a {"trace_id":"t1"} 0 1 ${bytes('last ns of bucket 1')}`,
          `a {} 0 1 ${bytes('last ns of bucket 0')}`,
        ],
      );
      assert.deepEqual(await store.countByBucket({ ...sel, tenant: 'nobody' }, O, W), []);
      const entriesOnly = (got: Awaited<ReturnType<Store['countByBucket']>>) =>
        rows(got.map((c) => ({ ...c, bytes: 0 })));
      assert.deepEqual(
        entriesOnly(await store.countByBucket(sel, O, W, { bytes: false })),
        entriesOnly(await store.countByBucket(sel, O, W)),
        'bytes: false counts the same entries',
      );
      await ctx.settle();
      assert.deepEqual(rows(await store.countByBucket(sel, O, W)), expected, 'same once converted');
    });

    test('streams lists the streams with entries in range', async () => {
      const all = await store.streams('fake', [], 0n, T0 + DAY);
      assert.equal(all.length, 3);
      const shopOnly = await store.streams(
        'fake',
        [{ name: 'namespace', op: '=', value: 'shop' }],
        0n,
        T0 + DAY,
      );
      assert.equal(shopOnly.length, 1);
      assert.equal(shopOnly[0]!.labels.pod, 'checkout-1');
      assert.equal((await store.streams('fake', [], T0 + DAY, T0 + 2n * DAY)).length, 0);
    });

    test('an append is visible to the next read (read-your-writes)', async () => {
      await store.append('fake', [rec({ app: 'late' }, T0 + 10n * SEC, 'just written')]);
      const got = await collect(store, { matchers: [{ name: 'app', op: '=', value: 'late' }] });
      assert.deepEqual(
        got.map((e) => e.body),
        ['just written'],
      );
    });

    test('bodies keep any text: unicode, NUL, newlines, lone surrogates become U+FFFD', async () => {
      const bodies = ['ünïcødé 日本語 🚀', 'nul\u0000inside', 'multi\nline\r\n', 'lone \ud800 surrogate', ''];
      await store.append(
        'texts',
        bodies.map((b, i) => rec({ app: 'texts' }, T0 + BigInt(i), b)),
      );
      const got = await collect(store, { tenant: 'texts' });
      assert.deepEqual(
        got.map((e) => e.body),
        ['ünïcødé 日本語 🚀', 'nul\u0000inside', 'multi\nline\r\n', 'lone \ufffd surrogate', ''],
      );
    });

    test('many entries with one timestamp keep a stable total order', async () => {
      const same = Array.from({ length: 50 }, (_, i) => rec({ app: 'same' }, T0, `line ${i}`));
      await store.append('same', same);
      const fwd = (await collect(store, { tenant: 'same' })).map((e) => e.body);
      const back = (await collect(store, { tenant: 'same', direction: 'backward' })).map((e) => e.body);
      assert.equal(fwd.length, 50);
      assert.deepEqual(back, [...fwd].reverse());
      assert.deepEqual(
        fwd,
        same.map((r) => r.body),
      );
    });

    test('sequence numbers: appends report them, entries carry them, cursors page without skips or repeats', async () => {
      const same = Array.from({ length: 30 }, (_, i) =>
        rec({ app: i % 2 ? 'odd' : 'even' }, T0 + BigInt(i % 3), `seq ${i}`),
      );
      const before = store.lastSeq();
      const res = await store.append('seqs', same);
      assert.ok(res.firstSeq > before);
      assert.equal(store.lastSeq(), res.firstSeq + 29n);
      const all = await collect(store, { tenant: 'seqs' });
      assert.equal(all.length, 30);
      const seqs = all.map((e) => e.seq);
      assert.ok(seqs.every((n) => typeof n === 'bigint'));
      assert.equal(new Set(seqs).size, 30);
      for (const direction of ['forward', 'backward'] as const) {
        const pages: string[] = [];
        let after: { timestamp: bigint; seq: bigint } | undefined;
        for (let i = 0; i < 20; i++) {
          const page = await collect(store, {
            tenant: 'seqs',
            direction,
            limit: 7,
            ...(after ? { after } : {}),
          });
          pages.push(...page.map((e) => e.body));
          if (page.length < 7) break;
          const last = page[page.length - 1]!;
          after = { timestamp: last.timestamp, seq: last.seq };
        }
        const whole = (await collect(store, { tenant: 'seqs', direction })).map((e) => e.body);
        assert.deepEqual(pages, whole, direction);
      }
      const later = await collect(store, { tenant: 'seqs', afterSeq: res.firstSeq + 24n });
      assert.deepEqual(later.map((e) => e.body).sort(), ['seq 25', 'seq 26', 'seq 27', 'seq 28', 'seq 29']);
    });

    test('sequence numbers: an empty or duplicate-only append reports the next one and assigns none', async () => {
      const last = store.lastSeq();
      const empty = await store.append('seqs-empty', []);
      assert.deepEqual(empty.stored, []);
      assert.ok(empty.firstSeq > last, `${empty.firstSeq} > ${last}`);
      assert.equal(store.lastSeq(), last);
      const one = rec({ app: 'dup' }, T0, 'once');
      const first = await store.append('seqs-empty', [one]);
      assert.equal(first.stored.length, 1);
      const again = await store.append('seqs-empty', [one]);
      assert.equal(again.duplicates, 1);
      assert.deepEqual(again.stored, []);
      assert.ok(again.firstSeq > first.firstSeq);
      assert.equal(store.lastSeq(), first.firstSeq);
    });

    test('data survives close and reopen without duplicates', async () => {
      await ctx.settle();
      await store.append('reopen', [rec({ app: 'r' }, T0, 'before'), rec({ app: 'r' }, T0 + 1n, 'before 2')]);
      const lastBefore = store.lastSeq();
      store = await ctx.reopen();
      // Sequence numbers are never reused: the kube API's resourceVersions outlive a restart.
      assert.equal(store.lastSeq(), lastBefore);
      const after = await store.append('reopen', [rec({ app: 'r' }, T0 + 2n, 'after')]);
      assert.ok(after.firstSeq > lastBefore);
      const got = await collect(store, { tenant: 'reopen' });
      assert.deepEqual(
        got.map((e) => e.body),
        ['before', 'before 2', 'after'],
      );
      assert.equal((await collect(store, {})).length, 6);
    });

    test('retention deletes whole days older than the cutoff', async () => {
      await store.append('ret', [
        rec({ app: 'old' }, T0 - 3n * DAY, 'three days old'),
        rec({ app: 'old' }, T0 - 1n * DAY, 'one day old'),
        rec({ app: 'new' }, T0, 'today'),
      ]);
      await ctx.settle();
      const removed = await store.applyRetention(T0, { period: 2n * DAY, rules: [] });
      assert.ok(removed >= 1);
      // Entries still waiting in a log or buffer obey the retention too.
      await store.append('ret', [rec({ app: 'old' }, T0 - 5n * DAY, 'late and old')]);
      const got = await collect(store, { tenant: 'ret' });
      assert.deepEqual(
        got.map((e) => e.body),
        ['one day old', 'today'],
      );
    });

    test('a deletion in force hides what it selects at once, and purge removes it from disk', async () => {
      await store.append('del', [
        rec({ app: 'web' }, T0, 'card=4111 leaked'),
        rec({ app: 'web' }, T0 + 1n, 'card=4111 again'),
        rec({ app: 'web' }, T0 + 2n, 'harmless'),
        rec({ app: 'api' }, T0 + 3n, 'card=4111 in another stream'),
        rec({ app: 'web' }, T0 + 10n * SEC, 'card=4111 after the range'),
      ]);
      await ctx.settle();
      const deletion = {
        id: 'd1',
        tenant: 'del',
        start: T0,
        end: T0 + 5n * SEC,
        matchers: [{ name: 'app', op: '=' as const, value: 'web' }],
        lineFilters: [{ op: '|=' as const, value: 'card=' }],
      };
      store.setDeletions([deletion]);
      const hidden = ['harmless', 'card=4111 in another stream', 'card=4111 after the range'];
      assert.deepEqual(
        (await collect(store, { tenant: 'del' })).map((e) => e.body),
        hidden,
      );
      assert.equal(
        await store.count({ tenant: 'del', start: 0n, end: T0 + DAY, matchers: [], lineFilters: [] }),
        3,
      );
      const buckets = await store.countByBucket(
        { tenant: 'del', start: 0n, end: T0 + DAY, matchers: [], lineFilters: [] },
        T0 - 1n,
        DAY,
      );
      assert.equal(
        buckets.reduce((n, b) => n + b.entries, 0),
        3,
      );
      await store.purge(deletion);
      store.setDeletions([]);
      assert.deepEqual(
        (await collect(store, { tenant: 'del' })).map((e) => e.body),
        hidden,
        'gone for good',
      );
      store = await ctx.reopen();
      assert.deepEqual(
        (await collect(store, { tenant: 'del' })).map((e) => e.body),
        hidden,
        'after a restart',
      );
    });

    test("per-stream retention: each stream keeps its rule's period, the rest the global one", async () => {
      await store.append('rs', [
        rec({ app: 'audit', kind: 'auditevent' }, T0 - 40n * DAY, 'audit, 40 days old'),
        rec({ app: 'audit', kind: 'auditevent' }, T0 - 1n * DAY, 'audit, 1 day old'),
        rec({ app: 'dev' }, T0 - 3n * DAY, 'dev, 3 days old'),
        rec({ app: 'dev' }, T0 - 12n * 3600n * SEC, 'dev, 12 hours old'),
        rec({ app: 'web' }, T0 - 10n * DAY, 'web, 10 days old'),
        rec({ app: 'web' }, T0 - 3n * DAY, 'web, 3 days old'),
      ]);
      await ctx.settle();
      const policy = {
        period: 7n * DAY,
        rules: [
          {
            matchers: [{ name: 'kind', op: '=' as const, value: 'auditevent' }],
            period: 365n * DAY,
            priority: 1,
          },
          { matchers: [{ name: 'app', op: '=' as const, value: 'dev' }], period: 1n * DAY, priority: 1 },
          // Lower priority: not the rule of the audit stream, though it matches.
          {
            matchers: [{ name: 'app', op: '=~' as const, value: 'audit|dev' }],
            period: 2n * DAY,
            priority: 0,
          },
        ],
      };
      const report = await store.retentionReport('rs', T0, policy);
      const byRule = new Map(report.map((r) => [r.rule, r]));
      assert.equal(byRule.get(0)?.entries ?? 0, 0, 'audit keeps a year');
      assert.equal(byRule.get(1)?.entries, 1, 'dev loses its 3-day-old line');
      assert.equal(byRule.get(-1)?.entries, 1, 'web loses its 10-day-old line');
      assert.deepEqual(
        (await collect(store, { tenant: 'rs', start: 0n })).map((e) => e.body).length,
        6,
        'a report removes nothing',
      );
      await store.applyRetention(T0, policy);
      assert.deepEqual(
        (await collect(store, { tenant: 'rs', start: 0n })).map((e) => e.body),
        ['audit, 40 days old', 'web, 3 days old', 'audit, 1 day old', 'dev, 12 hours old'],
      );
    });

    test('a cancelled selection rejects with the signal reason on every read', async () => {
      const controller = new AbortController();
      const reason = new Error('deadline');
      controller.abort(reason);
      const sel = {
        tenant: 'fake',
        start: 0n,
        end: T0 + 1000n * DAY,
        matchers: [],
        lineFilters: [],
        signal: controller.signal,
      };
      await assert.rejects(collect(store, sel), (e) => e === reason);
      await assert.rejects(store.count(sel), (e) => e === reason);
      await assert.rejects(store.countByStream(sel), (e) => e === reason);
      await assert.rejects(store.countByBucket(sel, 0n, DAY), (e) => e === reason);
      // The store still answers the next query.
      assert.equal(
        await store.count({ ...sel, signal: new AbortController().signal }),
        (await collect(store, {})).length,
      );
    });

    test('content hints never hide an entry that could pass them; unordered reads lose nothing', async () => {
      const keep = [
        rec({ app: 'h' }, T0, '{"level":"error"}'),
        rec({ app: 'h' }, T0 + 1n, '{"level":"\\u0065rror"}'),
        rec({ app: 'h' }, T0 + 2n, 'level="err\\"or"'),
        rec({ app: 'h' }, T0 + 3n, 'no level here', { level: 'error' }),
        rec({ app: 'h', level: 'error' }, T0 + 4n, 'the stream has it'),
        rec({ app: 'h', kubernetes_namespace_name: 'x' }, T0 + 5n, 'an alias of namespace'),
      ];
      await store.append('hint', [...keep, rec({ app: 'h' }, T0 + 6n, '{"level":"info"}')]);
      const bodies = async (q: Partial<EntryQuery>) =>
        (await collect(store, { tenant: 'hint', ...q })).map((e) => e.body).sort();
      const all = await bodies({});
      assert.equal(all.length, 7);
      for (const [label, literal, must] of [
        ['level', 'error', [0, 1, 3, 4]],
        ['level', 'err"or', [2, 4]],
        ['namespace', 'nowhere', [5]],
      ] as const) {
        const got = await bodies({ hints: [{ label, literal }] });
        for (const i of must) assert.ok(got.includes(keep[i]!.body), `${label}=${literal}: ${keep[i]!.body}`);
      }
      assert.deepEqual(await bodies({ unordered: true }), all);
      // With a limit, order still decides which entries: the newest two (sorted here by body).
      assert.deepEqual(await bodies({ unordered: true, limit: 2, direction: 'backward' }), [
        'an alias of namespace',
        '{"level":"info"}',
      ]);
    });

    test("a stream filter skips streams; a hint's other labels let their streams through", async () => {
      await store.append('sf', [
        rec({ app: 'shop' }, T0, 'one'),
        rec({ kubernetes_labels_app: 'shop' }, T0 + 1n, 'two'),
        rec({ app: 'cart' }, T0 + 2n, 'three'),
        rec({ other: 'x' }, T0 + 3n, 'four'),
        rec({ other: 'y' }, T0 + 4n, 'says shop in its body'),
      ]);
      const bodies = async (q: Partial<EntryQuery>) =>
        (await collect(store, { tenant: 'sf', ...q })).map((e) => e.body);
      assert.deepEqual(await bodies({ streamFilter: (l) => l.app !== 'cart' }), [
        'one',
        'two',
        'four',
        'says shop in its body',
      ]);
      // A filter only ever narrows.
      assert.deepEqual(await bodies({ streamFilter: () => true }), await bodies({}));
      assert.deepEqual(await bodies({ streamFilter: () => false }), []);
      const hinted = await bodies({
        hints: [{ label: 'kubernetes_labels_app', literal: 'shop', orLabels: ['app'] }],
      });
      for (const must of ['one', 'two', 'three', 'says shop in its body'])
        assert.ok(hinted.includes(must), `${must}: ${hinted}`);
    });

    test('watchAppends announces every stored entry once, in sequence order, readable when announced', async () => {
      const announced: AppendedEntries[] = [];
      const readable: Promise<string[]>[] = [];
      const stop = store.watchAppends((a) => {
        announced.push(a);
        // Started inside the announcement: the entries must be visible to it.
        readable.push(
          collect(store, { tenant: a.tenant, afterSeq: a.entries[0]!.seq - 1n }).then((es) =>
            es.map((e) => e.body),
          ),
        );
      });
      await store.append('watch-a', [
        rec({ app: 'w', k: '9' }, T0 + 100n, 'w9 one'),
        rec({ app: 'w', k: '9' }, T0 + 200n, 'w9 two'),
      ]);
      announced.length = 0;
      readable.length = 0;
      // Some appends land inside a stream's stored time range (a store may look those entries up
      // to drop duplicates, which takes it longer); the rest do not. All run at once.
      const appends = await Promise.all(
        Array.from({ length: 6 }, (_, k) =>
          k % 3 === 0
            ? store.append('watch-a', [
                rec({ app: 'w', k: '9' }, T0 + 150n + BigInt(k), `w${k} one`),
                rec({ app: 'w', k: '9' }, T0 + 151n + BigInt(k), `w${k} two`),
              ])
            : store.append(k % 2 ? 'watch-a' : 'watch-b', [
                rec({ app: 'w', k: String(k) }, T0 + BigInt(k), `w${k} one`),
                rec({ app: 'w', k: String(k) }, T0 + BigInt(k) + 1n, `w${k} two`),
              ]),
        ),
      );
      await store.append('watch-a', []);
      await store.append('watch-a', [rec({ app: 'w', k: '1' }, T0 + 1n, 'w1 one')]); // a duplicate
      stop();
      await store.append('watch-a', [rec({ app: 'w' }, T0, 'after stop')]);
      assert.equal(announced.length, 6, 'one announcement per append that stored something');
      const seqs = announced.flatMap((a) => a.entries.map((e) => e.seq));
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => (a < b ? -1 : 1)),
        'in sequence order',
      );
      assert.deepEqual(
        [...seqs].sort((a, b) => (a < b ? -1 : 1)),
        appends.flatMap((r) => [r.firstSeq, r.firstSeq + 1n]).sort((a, b) => (a < b ? -1 : 1)),
        'the numbers the appends reported',
      );
      for (const [i, a] of announced.entries()) {
        const k = Number(a.entries[0]!.body.slice(1, 2));
        const looked = k % 3 === 0;
        assert.equal(a.tenant, looked || k % 2 ? 'watch-a' : 'watch-b');
        const t = looked ? T0 + 150n + BigInt(k) : T0 + BigInt(k);
        assert.deepEqual(
          a.entries.map((e) => [e.body, e.stream.labels.k, e.timestamp]),
          [
            [`w${k} one`, looked ? '9' : String(k), t],
            [`w${k} two`, looked ? '9' : String(k), t + 1n],
          ],
        );
        const got = await readable[i]!;
        assert.ok(got.includes(`w${k} one`) && got.includes(`w${k} two`), `append ${k} readable: ${got}`);
      }
    });

    test('followAppends replays what came after a sequence number, then goes on live: no gap, no repeat', async () => {
      const first = await store.append('follow', [
        rec({ app: 'f' }, T0 + 5n, 'f1'),
        rec({ app: 'f' }, T0 + 1n, 'f2'),
        rec({ app: 'f' }, T0 + 3n, 'f3'),
      ]);
      const got: bigint[] = [];
      const bodies: string[] = [];
      const deliver = (es: readonly StoredEntry[]) => {
        for (const e of es) {
          got.push(e.seq);
          bodies.push(e.body);
        }
      };
      const window = { tenant: 'follow', start: 0n, end: T0 + DAY, matchers: [], lineFilters: [] };
      const follow = followAppends(store, { query: window, afterSeq: first.firstSeq, deliver });
      const fromNow = followAppends(store, { query: window, deliver: () => {} });
      const live: string[] = [];
      const liveOnly = followAppends(store, {
        query: window,
        deliver: (es) => live.push(...es.map((e) => e.body)),
      });
      // Appended while the follow reads what came before it.
      const during = store.append('follow', [rec({ app: 'f' }, T0, 'f4')]);
      await store.append('other-tenant', [rec({ app: 'f' }, T0, 'not followed')]);
      assert.deepEqual(await follow.ready, { truncated: false });
      await during;
      await store.append('follow', [rec({ app: 'g' }, T0 + 2n, 'f5'), rec({ app: 'f' }, T0 + 9n, 'f6')]);
      follow.close();
      await store.append('follow', [rec({ app: 'f' }, T0 + 10n, 'f7')]);
      assert.deepEqual(bodies, ['f2', 'f3', 'f4', 'f5', 'f6']);
      assert.deepEqual(
        got,
        [...got].sort((a, b) => (a < b ? -1 : 1)),
      );
      assert.equal(new Set(got).size, got.length);
      assert.deepEqual(live, ['f4', 'f5', 'f6', 'f7']);
      fromNow.close();
      liveOnly.close();
      // A follower too far behind learns it: more entries than it would take.
      const behind = followAppends(store, {
        query: { ...window, limit: 2 },
        afterSeq: first.firstSeq - 1n,
        deliver: () => {},
      });
      assert.deepEqual(await behind.ready, { truncated: true });
      behind.close();
    });

    test('stats report disk bytes and streams', async () => {
      const s = await store.stats();
      assert.ok(s.diskBytes > 0);
      assert.ok(s.streams >= 3);
    });
  });
}
