/**
 * End-to-end: /loki/api/v1/tail over a real WebSocket: history first, then pushed lines within a
 * second, filtered by the query, per tenant and per LokiStack class.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  allValues,
  pushJson,
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

interface TailFrame {
  streams?: { stream: Record<string, string>; values: [string, string][] }[];
  dropped_entries?: { timestamp: string; labels: Record<string, string> }[];
}

/** A tail client that collects frames. */
class Tail {
  readonly frames: TailFrame[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as TailFrame);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<Tail> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const tail = new Tail(ws);
      ws.once('open', () => resolve(tail));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => reject(new Error(`${res.statusCode}: ${body}`)));
      });
    });
  }

  lines(): string[] {
    return this.frames.flatMap((f) => (f.streams ?? []).flatMap((s) => s.values.map((v) => v[1])));
  }

  /** Waits until `pred` holds, at most `ms`. */
  async until(pred: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; frames: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

describe('/loki/api/v1/tail', () => {
  let server: ServerProcess;
  let ws: string;
  before(async () => {
    server = await startServerProcess();
    ws = server.url.replace(/^http/, 'ws');
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  const tailUrl = (query: string, extra: Record<string, string> = {}, prefix = '') =>
    `${ws}${prefix}/loki/api/v1/tail?${new URLSearchParams({ query, ...extra })}`;

  test('sends the history since start, then a pushed line within one second', async () => {
    const t0 = BigInt(Date.now()) * 1_000_000n;
    const r = await pushJson(server.url, {
      streams: [
        {
          stream: { namespace: 'tail1', pod: 'p', container: 'c' },
          values: [
            [(t0 - 2_000_000_000n).toString(), 'old 1'],
            [(t0 - 1_000_000_000n).toString(), 'old 2 skip'],
            [(t0 - 500_000_000n).toString(), 'old 3'],
          ],
        },
      ],
    });
    assert.equal(r.status, 204, r.text);
    const tail = await Tail.open(tailUrl('{namespace="tail1"} != "skip"', { limit: '10' }));
    try {
      await tail.until(() => tail.lines().length >= 2, 5000);
      assert.deepEqual(tail.frames[0], {
        streams: [
          {
            stream: {
              namespace: 'tail1',
              pod: 'p',
              container: 'c',
              kind: 'containerlog',
              class: 'application',
            },
            values: [
              [(t0 - 2_000_000_000n).toString(), 'old 1'],
              [(t0 - 500_000_000n).toString(), 'old 3'],
            ],
          },
        ],
      });
      const now = (BigInt(Date.now()) * 1_000_000n).toString();
      const pushed = Date.now();
      const p = await pushJson(server.url, {
        streams: [
          { stream: { namespace: 'tail1', pod: 'p', container: 'c' }, values: [[now, 'live skip']] },
          { stream: { namespace: 'other', pod: 'p', container: 'c' }, values: [[now, 'elsewhere']] },
          {
            stream: { namespace: 'tail1', pod: 'p', container: 'c' },
            values: [[now, 'live line', { trace_id: 'x' }]],
          },
        ],
      });
      assert.equal(p.status, 204, p.text);
      await tail.until(() => tail.lines().includes('live line'), 1000);
      assert.ok(Date.now() - pushed < 1000);
      assert.deepEqual(tail.frames.at(-1), {
        streams: [
          {
            stream: {
              trace_id: 'x',
              namespace: 'tail1',
              pod: 'p',
              container: 'c',
              kind: 'containerlog',
              class: 'application',
            },
            values: [[now, 'live line']],
          },
        ],
      });
      assert.deepEqual(tail.lines(), ['old 1', 'old 3', 'live line']);
    } finally {
      tail.close();
    }
  });

  test('a unicode-sensitive regex filter keeps the same lines on tail (history and live) as on query_range', async () => {
    // One implementation of line filters (src/query/scan.ts): the store's pushdown for stored
    // entries, the LogQL evaluator (RE2, unicode) for live ones; the tail once had its own RE2 filters.
    const query = '{namespace="tailu"} |~ `^\\p{Greek}+ \\S$` !~ "(?i)^αβγ x"';
    const lines = ['αβγ 😀', 'ΑΒΓ 😀', 'abc 😀', 'αβγ x', 'é 😀', 'σς 🙏'];
    const wanted = ['αβγ 😀', 'ΑΒΓ 😀', 'σς 🙏'];
    const stream = { namespace: 'tailu', pod: 'p', container: 'c' };
    const start = BigInt(Date.now()) * 1_000_000n - 10_000_000_000n;
    const at = (base: bigint, i: number) => (base + BigInt(i) * 1_000_000n).toString();
    const old = BigInt(Date.now()) * 1_000_000n - 5_000_000_000n;
    const r = await pushJson(server.url, {
      streams: [{ stream, values: lines.map((l, i): [string, string] => [at(old, i), l]) }],
    });
    assert.equal(r.status, 204, r.text);
    const tail = await Tail.open(tailUrl(query, { start: start.toString(), limit: '100' }));
    try {
      await tail.until(() => tail.lines().length >= wanted.length, 5000);
      const now = BigInt(Date.now()) * 1_000_000n;
      const p = await pushJson(server.url, {
        streams: [{ stream, values: lines.map((l, i): [string, string] => [at(now, i), l]) }],
      });
      assert.equal(p.status, 204, p.text);
      await tail.until(() => tail.lines().length >= 2 * wanted.length, 2000);
      const range = await queryRange(server.url, {
        query,
        start: start.toString(),
        end: (now + 1_000_000_000n).toString(),
        limit: '100',
        direction: 'forward',
      });
      const queried = allValues(range).map((v) => v[1]);
      assert.deepEqual(queried, [...wanted, ...wanted]);
      assert.deepEqual(tail.lines(), queried);
    } finally {
      tail.close();
    }
  });

  test('limit bounds the history to the newest entries', async () => {
    const t0 = BigInt(Date.now()) * 1_000_000n;
    const values = [1, 2, 3, 4].map((i): [string, string] => [
      (t0 - BigInt(5 - i) * 1_000_000n).toString(),
      `h${i}`,
    ]);
    await pushJson(server.url, {
      streams: [{ stream: { namespace: 'tail2', pod: 'p', container: 'c' }, values }],
    });
    const tail = await Tail.open(tailUrl('{namespace="tail2"}', { limit: '2' }));
    try {
      await tail.until(() => tail.lines().length >= 2, 5000);
      assert.deepEqual(tail.lines(), ['h3', 'h4']);
    } finally {
      tail.close();
    }
  });

  test('tenants are isolated', async () => {
    const tail = await Tail.open(tailUrl('{namespace="tail3"}'), { 'X-Scope-OrgID': 'team-a' });
    try {
      const now = (BigInt(Date.now()) * 1_000_000n).toString();
      await pushJson(server.url, {
        streams: [
          { stream: { namespace: 'tail3', pod: 'p', container: 'c' }, values: [[now, 'default tenant']] },
        ],
      });
      await pushJson(
        server.url,
        {
          streams: [
            { stream: { namespace: 'tail3', pod: 'p', container: 'c' }, values: [[now, 'team-a line']] },
          ],
        },
        { 'X-Scope-OrgID': 'team-a' },
      );
      await tail.until(() => tail.lines().includes('team-a line'), 1000);
      assert.deepEqual(tail.lines(), ['team-a line']);
    } finally {
      tail.close();
    }
  });

  test('LokiStack tail paths see only their class', async () => {
    const tail = await Tail.open(tailUrl('{pod="shared"}', {}, '/api/logs/v1/infrastructure'));
    try {
      const now = (BigInt(Date.now()) * 1_000_000n).toString();
      await pushJson(server.url, {
        streams: [
          {
            stream: { namespace: 'app-ns', pod: 'shared', container: 'c' },
            values: [[now, 'application line']],
          },
          {
            stream: { namespace: 'kube-x', pod: 'shared', container: 'c' },
            values: [[now, 'infrastructure line']],
          },
        ],
      });
      await tail.until(() => tail.lines().includes('infrastructure line'), 1000);
      assert.deepEqual(tail.lines(), ['infrastructure line']);
    } finally {
      tail.close();
    }
  });

  test('bad requests are refused before the upgrade, in Loki wording', async () => {
    await assert.rejects(Tail.open(tailUrl('{namespace=}')), /^Error: 400: parse error/);
    await assert.rejects(
      Tail.open(tailUrl('{a="b"}', { delay_for: '6' })),
      /400: delay_for can't be greater than 5/,
    );
    await assert.rejects(Tail.open(`${ws}/loki/api/v1/nothing`), /404/);
  });
});
