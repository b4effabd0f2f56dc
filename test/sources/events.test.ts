/**
 * The events source against a small HTTP server playing kube-apiserver from a RECORDING: the list
 * responses and watch streams below are what `GET /api/v1/events` and
 * `GET /api/v1/events?watch=true&allowWatchBookmarks=true&resourceVersion=...` return, including a
 * bookmark and the `ERROR` event with a 410 Status that a compacted resourceVersion produces.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createEventsSource } from '../../src/sources/events/index.js';
import type { Positions } from '../../src/sources/source.js';
import { writeTestKubeconfig } from '../helpers/kubeconfig.js';
import { runSource, type SourceRun } from '../helpers/source-run.js';
import { LiveEventsApi } from './events-live-api.js';
import { sourceContract } from './source-contract.js';

function event(uid: string, rv: string, count: number, name = `pod-${uid}.17a`, ns = 'shop') {
  return {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: { name, namespace: ns, uid, resourceVersion: rv, creationTimestamp: '2026-11-23T10:00:00Z' },
    involvedObject: { kind: 'Pod', namespace: ns, name: `pod-${uid}`, apiVersion: 'v1' },
    reason: 'BackOff',
    message: `Back-off restarting failed container (${count})`,
    source: { component: 'kubelet', host: 'worker-1' },
    firstTimestamp: '2026-11-23T10:00:00Z',
    lastTimestamp: `2026-11-23T10:${String(count).padStart(2, '0')}:00Z`,
    count,
    type: 'Warning',
  };
}
const listItem = (e: ReturnType<typeof event>) => {
  const { kind: _k, apiVersion: _a, ...rest } = e;
  return rest;
};
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;
const bookmark = (rv: string) => ({ kind: 'Event', apiVersion: 'v1', metadata: { resourceVersion: rv } });
const gone = {
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  message: 'too old resource version: 100 (105)',
  reason: 'Expired',
  code: 410,
};

type Step =
  | { readonly list: { readonly rv: string; readonly items: unknown[] } }
  | { readonly watch: { readonly from: string; readonly lines: string[]; readonly hold: boolean } };

/** Serves the recording's steps in order; requests that do not match the next step fail the test. */
class FakeApiServer {
  readonly requests: string[] = [];
  readonly errors: string[] = [];
  private steps: Step[] = [];
  private server: Server | undefined;
  private readonly open = new Set<ServerResponse>();
  port = 0;

  play(steps: Step[]): void {
    this.steps = [...steps];
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${url.pathname}?${url.searchParams.toString()}`);
    const step = this.steps.shift();
    const watching = url.searchParams.get('watch') === 'true';
    if (url.pathname !== '/api/v1/events' || step === undefined) {
      this.errors.push(`unexpected ${req.url}`);
      res.writeHead(404).end();
      return;
    }
    if ('list' in step) {
      if (watching) this.errors.push(`expected a list, got ${req.url}`);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'EventList',
          apiVersion: 'v1',
          metadata: { resourceVersion: step.list.rv },
          items: step.list.items,
        }),
      );
      return;
    }
    const q = url.searchParams;
    if (
      !watching ||
      q.get('resourceVersion') !== step.watch.from ||
      q.get('allowWatchBookmarks') !== 'true'
    ) {
      this.errors.push(`expected a watch from ${step.watch.from}, got ${req.url}`);
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    for (const l of step.watch.lines) res.write(l);
    if (step.watch.hold) {
      this.open.add(res);
      res.on('close', () => this.open.delete(res));
    } else {
      res.end();
    }
  }

  async stop(): Promise<void> {
    for (const r of this.open) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}

// The contract, against a live fake API server per test directory: a produced line becomes an
// Event whose message is the line (its uid derived from the line, so that a body is known from the
// line alone once produced).
const liveApis = new Map<string, LiveEventsApi>();
const produced = new Map<string, string>();
const liveEvent = (line: string) => (resourceVersion: string) => {
  // apiVersion before kind, as the source puts them on list items: the same body either way.
  const { kind, apiVersion, ...rest } = event(Buffer.from(line).toString('hex'), resourceVersion, 1);
  const e = { apiVersion, kind, ...rest, message: line };
  produced.set(line, JSON.stringify(e));
  return e;
};
sourceContract('events', {
  resumable: true,
  async create(dir) {
    let api = liveApis.get(dir);
    if (api === undefined) {
      api = new LiveEventsApi();
      await api.start();
      liveApis.set(dir, api);
    }
    const kubeconfig = await writeTestKubeconfig(dir, api.port);
    return createEventsSource({ kubeconfig, retryDelayMs: 50 });
  },
  async produce(dir, lines) {
    for (const l of lines) liveApis.get(dir)!.add(liveEvent(l));
  },
  body: (line) => produced.get(line) ?? `(never produced: ${line})`,
  async produceBad(dir) {
    // An event without metadata.uid: reported as bad_event and skipped.
    liveApis
      .get(dir)!
      .add((resourceVersion) => ({ apiVersion: 'v1', kind: 'Event', metadata: { resourceVersion } }));
  },
  async cleanup(dir) {
    await liveApis.get(dir)?.stop();
    liveApis.delete(dir);
  },
});

type Run = SourceRun;

function run(kubeconfig: string, positions: Positions = {}): Run {
  return runSource(createEventsSource({ kubeconfig, retryDelayMs: 50 }), positions);
}

/** uid@resourceVersion of every record stored. */
const stored = (r: Run) =>
  r.batches.flatMap((b) =>
    b.records.map((x) => {
      const e = JSON.parse(x.body) as { metadata: { uid: string; resourceVersion: string } };
      return `${e.metadata.uid}@${e.metadata.resourceVersion}`;
    }),
  );

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('events source (recorded kube-apiserver)', () => {
  const api = new FakeApiServer();
  let dir = '';
  let kubeconfig = '';
  before(async () => {
    await api.start();
    dir = await mkdtemp(join(tmpdir(), 'kj-events-'));
    kubeconfig = await writeTestKubeconfig(dir, api.port);
  });
  after(async () => {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  let saved: Record<string, unknown> = {};

  test('lists, watches, keeps every change once; a 410 relists without duplicates; bookmarks advance', async () => {
    const e1 = event('a', '90', 1);
    const e2 = event('b', '95', 1);
    const e1b = event('a', '101', 2);
    const e3 = event('c', '102', 1);
    const e4 = event('d', '108', 1);
    const e4b = event('d', '111', 2);
    api.play([
      { list: { rv: '100', items: [listItem(e1), listItem(e2)] } },
      {
        watch: {
          from: '100',
          lines: [
            line('MODIFIED', e1b),
            line('ADDED', e3),
            line('BOOKMARK', bookmark('105')),
            line('ERROR', gone),
          ],
          hold: true,
        },
      },
      // Relist: a, b, c unchanged; d happened while no watch was open.
      { list: { rv: '110', items: [listItem(e1b), listItem(e2), listItem(e3), listItem(e4)] } },
      { watch: { from: '110', lines: [line('MODIFIED', e4b)], hold: true } },
    ]);
    const r = run(kubeconfig);
    await until('six changes', () => stored(r).length >= 6);
    await new Promise((res) => setTimeout(res, 200));
    await r.stop();
    assert.deepEqual(api.errors, []);
    assert.deepEqual(stored(r), ['a@90', 'b@95', 'a@101', 'c@102', 'd@108', 'd@111']);
    assert.ok(
      // Without the bookmark, the position would go from 102 straight to the relist's 110.
      r.batches.some((b) => b.positions.resourceVersion === '105'),
      'the bookmark advanced the position',
    );
    saved = r.positions();
    assert.equal(saved.resourceVersion, '111');
    assert.deepEqual(saved.seen, { b: '95', a: '101', c: '102', d: '111' });
    // Records as `kjournal import --format events` builds them.
    const first = r.batches.flatMap((b) => b.records)[0]!;
    assert.deepEqual(first.labels, { kind: 'event', namespace: 'shop' });
    assert.equal(first.timestamp, BigInt(Date.parse('2026-11-23T10:01:00Z')) * 1_000_000n);
    assert.equal(first.attributes.reason, 'BackOff');
    assert.equal(first.attributes.event_uid, 'a');
    assert.equal(first.attributes.count, '1');
    assert.equal(JSON.parse(first.body).kind, 'Event', 'list items carry kind like watch objects');
    assert.deepEqual(r.problems, []);
  });

  test('a restart resumes the watch from the saved resourceVersion without duplicates', async () => {
    assert.equal(saved.resourceVersion, '111', 'needs the previous test');
    api.play([
      {
        watch: {
          from: '111',
          // A replayed change already stored, then a new one, then an event expiring (DELETED).
          lines: [line('MODIFIED', event('d', '111', 2)), line('MODIFIED', event('a', '112', 3))],
          hold: false,
        },
      },
      {
        watch: {
          from: '112',
          lines: [line('DELETED', event('b', '113', 1)), line('BOOKMARK', bookmark('120'))],
          hold: true,
        },
      },
    ]);
    const r = run(kubeconfig, saved);
    await until('one change', () => stored(r).length >= 1);
    await until('the bookmark', () => r.positions().resourceVersion === '120');
    await r.stop();
    assert.deepEqual(api.errors, []);
    assert.deepEqual(stored(r), ['a@112']);
    assert.ok(!api.requests.slice(-2).some((q) => !q.includes('watch=true')), 'no list on resume');
    const pos = r.positions();
    assert.deepEqual(pos.seen, { c: '102', d: '111', a: '112' }, 'a deleted event leaves seen');
  });

  test('back-pressure: a full queue closes the watch, which reopens from the last change handed over', async () => {
    const changes = Array.from({ length: 10 }, (_, i) => event(`q${i}`, String(301 + i), 1));
    // Each watch is closed after 3 queued changes and reopened from the last one handed over.
    api.play(
      [0, 3, 6, 9].map((k) => ({
        watch: { from: String(300 + k), lines: changes.slice(k).map((e) => line('ADDED', e)), hold: true },
      })),
    );
    const r = runSource(createEventsSource({ kubeconfig, maxQueue: 3 }), {
      resourceVersion: '300',
      seen: {},
    });
    const { batches } = r;
    await until('ten changes', () => stored(r).length >= 10);
    await new Promise((res) => setTimeout(res, 100));
    await r.stop();
    assert.deepEqual(api.errors, []);
    assert.deepEqual(
      stored(r),
      changes.map((e) => `${e.metadata.uid}@${e.metadata.resourceVersion}`),
    );
    assert.ok(batches.every((b) => b.records.length <= 3));
  });
});

test('events source: stops promptly when aborted while its watch waits for the API server to answer', async () => {
  const api = new LiveEventsApi();
  api.holdWatchHeaders = true;
  await api.start();
  const dir = await mkdtemp(join(tmpdir(), 'kj-events-slow-'));
  try {
    const kubeconfig = await writeTestKubeconfig(dir, api.port);
    const r = run(kubeconfig);
    // The list answers at once (an empty batch saves its resourceVersion); the watch never does.
    await until('the list', () => r.batches.length >= 1);
    await new Promise((res) => setTimeout(res, 200));
    r.controller.abort();
    const stopped = await Promise.race([
      r.done.then(() => true),
      new Promise<boolean>((res) => setTimeout(() => res(false), 2000).unref()),
    ]);
    assert.ok(stopped, 'run() resolved within 2 s of the abort');
  } finally {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
