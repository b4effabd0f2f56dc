/**
 * `kjournal migrate` (src/migrate/, src/cli/migrate.ts): an embedded store copied into another store
 * by a child process that is interrupted (SIGINT: exit 130), killed (kill -9) and run again,
 * ending with every entry in the target exactly once and the per-day counts compared; a target
 * whose count differs afterwards makes it exit 1 with one line naming the day.
 *
 * The targets are a list: the ClickHouse backend is one more entry (a startClickHouse() from
 * test/helpers/clickhouse.ts, `--clickhouse-url`, and openStore with its backend config).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { labelsKey } from '../../src/model/labels-key.js';
import type { LogRecord } from '../../src/model/record.js';
import { createStore, openStore, type StoreBackendConfig } from '../../src/store/open.js';
import { MAX_TIMESTAMP_NS, type Store } from '../../src/store/store.js';
import { startClickHouse, startClickHouseCluster } from '../helpers/clickhouse.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const DAY = 86_400_000_000_000n;
const DAY0 = BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n;
const DAYS = 6;
const PER_DAY = 1200;
const TENANTS = ['fake', 'team-b'];

interface Target {
  readonly name: string;
  setup(): Promise<{ args: string[]; open(): Promise<Store>; cleanup(): Promise<void> }>;
}

/** The ClickHouse backend's config (src/store/clickhouse/), typed loosely until it is registered. */
const clickhouseBackend = (url: string, cluster?: string) =>
  ({ kind: 'clickhouse', url, ...(cluster ? { cluster } : {}) }) as unknown as StoreBackendConfig;

/** Whether this build registers the ClickHouse backend (createStore names no store otherwise). */
function clickhouseRegistered(): boolean {
  return (
    (createStore({ dataDir: tmpdir(), backend: clickhouseBackend('http://127.0.0.1:1') }) as unknown) !==
    undefined
  );
}

/** A ClickHouse target: a private server (or two-shard cluster) from test/helpers/clickhouse.ts. */
function clickhouseTarget(
  name: string,
  start: () => Promise<{ url: string; cluster?: string; stop(): Promise<void> }>,
): Target {
  return {
    name,
    async setup() {
      const ch = await start();
      const dir = await mkdtemp(join(tmpdir(), 'kj-migrate-ch-'));
      return {
        args: ['--clickhouse-url', ch.url, ...(ch.cluster ? ['--clickhouse-cluster', ch.cluster] : [])],
        open: () => openStore({ dataDir: dir, backend: clickhouseBackend(ch.url, ch.cluster) }),
        cleanup: async () => {
          await ch.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

const targets: Target[] = [
  {
    name: 'embedded',
    async setup() {
      const dir = await mkdtemp(join(tmpdir(), 'kj-migrate-to-'));
      return {
        args: ['--to-data', dir],
        open: () => openStore({ dataDir: dir }),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
];
// ClickHouse joins as soon as the backend is registered in src/store/open.ts (issue 16).
if (clickhouseRegistered()) {
  targets.push(
    clickhouseTarget('ClickHouse', () => startClickHouse()),
    clickhouseTarget('a two-shard ClickHouse cluster', () => startClickHouseCluster()),
  );
} else {
  process.stdout.write('# migrate to ClickHouse: not run, this build has no ClickHouse store backend yet\n');
}

/** The source: two tenants, six days, three streams, some entries with structured metadata. */
async function seed(dir: string): Promise<void> {
  const store = await openStore({ dataDir: dir });
  try {
    for (const tenant of TENANTS) {
      for (let d = 0; d < DAYS; d++) {
        const records: LogRecord[] = [];
        for (let i = 0; i < PER_DAY; i++) {
          const ts = DAY0 + BigInt(d) * DAY + BigInt(i) * 60_000_000_000n + BigInt(i % 7);
          records.push({
            timestamp: ts,
            observedTimestamp: ts + 5n,
            labels: { kind: 'containerlog', class: 'application', namespace: 'ns', pod: `p${i % 3}` },
            attributes: i % 5 === 0 ? { trace_id: `t${i}` } : {},
            body: `${tenant} day ${d} line ${i}`,
          });
        }
        await store.append(tenant, records);
      }
    }
  } finally {
    await store.close();
  }
  // A delete request in force for team-b's pod p2 on day 2: those entries are not copied.
  const start = DAY0 + 2n * DAY;
  await writeFile(
    join(dir, 'delete-requests.json'),
    JSON.stringify([
      {
        id: 'abcd1234',
        tenant: 'team-b',
        query: '{pod="p2"}',
        start: String(start),
        end: String(start + DAY - 1n),
        createdAt: '0',
        status: 'received',
      },
    ]),
  );
}

/** Every entry of a store as comparable text, sorted: duplicates would show as repeated lines. */
async function contents(store: Store): Promise<string[]> {
  const out: string[] = [];
  for (const tenant of TENANTS) {
    const q = {
      tenant,
      start: 0n,
      end: MAX_TIMESTAMP_NS,
      matchers: [],
      lineFilters: [],
      direction: 'forward' as const,
    };
    for await (const batch of store.entries(q)) {
      for (const e of batch) {
        out.push(
          `${tenant}|${labelsKey(e.stream.labels)}|${e.timestamp}|${e.observedTimestamp}|${JSON.stringify(e.attributes)}|${e.body}`,
        );
      }
    }
  }
  return out.sort();
}

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves when a stderr line matches. */
  line(re: RegExp): Promise<void>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [MAIN, 'migrate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of [...waiters]) {
      if (w.re.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    done,
    line: (re) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(stderr)) return resolve();
        waiters.push({ re, resolve });
        done.then((r) => reject(new Error(`exited (${r.code ?? r.signal}) before ${re}: ${r.stderr}`)));
      }),
  };
}

for (const target of targets) {
  test(`migrate to ${target.name}: interrupted, killed, resumed; every entry once, counts compared`, async () => {
    const src = await mkdtemp(join(tmpdir(), 'kj-migrate-from-'));
    const t = await target.setup();
    try {
      await seed(src);
      const source = await openStore({ dataDir: src });
      const { DeleteRequests } = await import('../../src/lifecycle/delete-requests.js');
      const requests = new DeleteRequests({
        dataDir: src,
        store: source,
        cancelPeriod: 1n << 62n,
        now: () => 0n,
        log: () => undefined,
      });
      await requests.open();
      const expected = await contents(source);
      await requests.close();
      await source.close();
      const units = TENANTS.length * DAYS;
      assert.equal(
        expected.length,
        units * PER_DAY - PER_DAY / 3,
        'the delete request hides a third of a day',
      );

      const args = ['--from-data', src, ...t.args, '--batch-entries', '50', '--progress', 'plain'];
      // 1. SIGINT after the first completed day: stops after the batch in flight, exit 130.
      const r1 = run(args);
      await r1.line(/\(1\/12\)/);
      r1.child.kill('SIGINT');
      const e1 = await r1.done;
      assert.equal(e1.code, 130, e1.stderr);
      assert.match(
        e1.stderr,
        /kjournal: interrupted: \d+ of 12 tenant-days copied; run the same command again/,
      );

      // 2. kill -9 after the next completed day: no chance to clean up.
      const r2 = run(args);
      await r2.line(/\(\d+\/12\)\n/);
      // A moment into the next day (an append of 50 entries takes a few ms): most likely killed
      // with that day half-copied, which the last run sends again.
      await new Promise((r) => setTimeout(r, 60));
      r2.child.kill('SIGKILL');
      const e2 = await r2.done;
      assert.equal(e2.signal, 'SIGKILL');
      const stateDir = join(src, 'migrate');
      const [stateFile] = await readdir(stateDir);
      const completed = (await readFile(join(stateDir, stateFile!), 'utf8')).trim().split('\n').length - 1;
      assert.ok(
        completed >= 2 && completed < units,
        `killed mid-way: ${completed} of ${units} days recorded`,
      );

      // 3. Run to the end: the days recorded are skipped, the one in flight is sent again whole.
      const e3 = await run(args).done;
      assert.equal(e3.code, 0, e3.stderr);
      const m =
        /migrated (\d+) entries in (\d+) tenant-day\(s\) .* \((\d+) copied by this run, (\d+) already there\); every day's count matches/.exec(
          e3.stdout,
        );
      assert.ok(m, e3.stdout);
      assert.equal(Number(m[1]), expected.length);
      assert.equal(Number(m[2]), units);
      assert.equal(Number(m[3]), units - completed);
      process.stdout.write(
        `# resumed: ${m[3]} days copied by the last run, ${m[4]} entries re-sent as duplicates\n`,
      );

      const store = await t.open();
      try {
        const got = await contents(store);
        assert.equal(got.length, expected.length, 'every entry once');
        assert.deepEqual(got, expected);
        // A day the target then holds differently: the comparison names it, exit 1.
        await store.append('fake', [
          {
            timestamp: DAY0 + 3n * DAY + 1n,
            observedTimestamp: DAY0,
            labels: { kind: 'containerlog', class: 'application', namespace: 'ns', pod: 'extra' },
            attributes: {},
            body: 'not in the source',
          },
        ]);
      } finally {
        await store.close();
      }
      const e4 = await run(args).done;
      assert.equal(e4.code, 1, e4.stderr);
      assert.equal(
        e4.stderr.trim().split('\n').at(-1),
        'kjournal: counts differ on 1 tenant-day(s), first: tenant fake on 2026-01-04: 1200 entries in the source, 1201 in the target',
      );
    } finally {
      await t.cleanup();
      await rm(src, { recursive: true, force: true });
    }
  });
}

test('migrate refuses a missing target, two targets, a directory without a store, and one a server holds', async () => {
  const src = await mkdtemp(join(tmpdir(), 'kj-migrate-from-'));
  try {
    const none = await run(['--from-data', src]).done;
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give one target: --clickhouse-url URL or --to-data DIR/);
    const two = await run([
      '--from-data',
      src,
      '--to-data',
      `${src}-x`,
      '--clickhouse-url',
      'http://127.0.0.1:1',
    ]).done;
    assert.equal(two.code, 2);
    const empty = await run(['--from-data', src, '--to-data', `${src}-to`]).done;
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /holds no kjournal store \(no catalog\.ndjson\)/);
    const store = await openStore({ dataDir: src });
    const { acquireDirLock } = await import('../../src/disk/dir-lock.js');
    const lock = await acquireDirLock(src, 'data directory');
    try {
      const held = await run(['--from-data', src, '--to-data', `${src}-to`]).done;
      assert.equal(held.code, 1);
      assert.match(held.stderr, /stop the server that uses it before migrating/);
    } finally {
      await lock.release();
      await store.close();
    }
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(`${src}-to`, { recursive: true, force: true });
  }
});

test('on a terminal, migrate draws a progress bar over the entries that ends at 100%', async () => {
  const src = await mkdtemp(join(tmpdir(), 'kj-migrate-from-'));
  const dst = await mkdtemp(join(tmpdir(), 'kj-migrate-to-'));
  try {
    await seed(src);
    let err = '';
    let out = '';
    const { runMigrate } = await import('../../src/cli/migrate.js');
    const report = await runMigrate(
      { fromData: src, toData: dst },
      (t) => {
        out += t;
      },
      {
        write: (t: string) => {
          err += t;
          return true;
        },
        isTTY: true,
      },
    );
    const total = TENANTS.length * DAYS * PER_DAY - PER_DAY / 3;
    assert.equal(report.entries, total);
    assert.match(err, new RegExp(`migrate \\[█{20}\\] 100% \\| ${total}/${total} entries`));
    assert.match(out, /every day's count matches\n$/);
  } finally {
    await rm(src, { recursive: true, force: true });
    await rm(dst, { recursive: true, force: true });
  }
});
