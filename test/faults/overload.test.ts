/**
 * Fault: more queries than the server can run. 1,000 concurrent metric queries answered 896 × 500
 * "Out of Memory Error" (DuckDB's --query-memory-limit shared by all of them at once), or with
 * more memory all crawled past the timeout together. Now they wait for admission: on a real child
 * server holding 200,000 lines, 500 concurrent metric queries are each answered either with the
 * value a lone query gives or 429 "too many outstanding requests" with Retry-After, never 500 and
 * never a wrong 200, with RSS (from /proc) under the query memory limit plus a stated overhead.
 * Kube lists refused the same way are a Kubernetes Status; an out-of-memory query is a 503.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { rssMiB } from '../helpers/process-info.js';
import { pushJson, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

interface Answer {
  status: number;
  body: string;
  retryAfter: string | undefined;
}

/** A GET on its own connection (an agent with room for every request at once). */
function get(agent: Agent, url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => {
        const ra = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, body, retryAfter: Array.isArray(ra) ? ra[0] : ra });
      });
    })
      .on('error', reject)
      .end();
  });
}

const QUERY_MEMORY_MIB = 32;
const now = BigInt(Date.now()) * 1_000_000n;
const start = now - 3_600_000_000_000n;

/** 200,000 lines over the last hour in 20 streams. */
async function fill(server: ServerProcess): Promise<void> {
  let k = 0;
  for (let b = 0; b < 40; b++) {
    const streams = [];
    for (let s = 0; s < 20; s++) {
      const values: [string, string][] = [];
      for (let i = 0; i < 250; i++) {
        k++;
        values.push([
          String(start + BigInt(k) * 10_000_000n),
          `level=info ns=${s} msg="hello ${k}" dur=${k % 100}ms`,
        ]);
      }
      streams.push({ stream: { namespace: `ns${s}`, pod: `p${s}`, container: 'c', app: 'flood' }, values });
    }
    const r = await pushJson(server.url, { streams });
    assert.equal(r.status, 204, r.text);
  }
}

/** The part of a Loki answer that must not vary: the data without the stats. */
function result(body: string): unknown {
  return (JSON.parse(body) as { data: { result: unknown } }).data.result;
}

describe('overload', () => {
  let server: ServerProcess;
  const agent = new Agent({ maxSockets: 2000 });
  before(async () => {
    server = await startServerProcess({ args: ['--query-memory-limit', `${QUERY_MEMORY_MIB}MiB`] });
    await fill(server);
  });
  after(async () => {
    agent.destroy();
    await server.stop();
    await removeDir(server.dataDir);
  });

  const metricUrl = () =>
    `${server.url}/loki/api/v1/query_range?${new URLSearchParams({
      query: 'sum by (namespace) (count_over_time({app="flood"} |= "hello" [1m]))',
      start: String(start),
      end: String(now),
      step: '60',
    })}`;

  test('500 concurrent metric queries: each the lone answer or 429 with Retry-After; RSS bounded', async (t) => {
    const lone = await get(agent, metricUrl());
    assert.equal(lone.status, 200, lone.body);
    const expected = result(lone.body);
    const series = expected as { values: unknown[] }[];
    assert.equal(series.length, 20);

    const pid = server.child.pid!;
    const before = rssMiB(pid);
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, rssMiB(pid));
    }, 50);
    let answers: Answer[];
    try {
      answers = await Promise.all(Array.from({ length: 500 }, () => get(agent, metricUrl())));
    } finally {
      clearInterval(timer);
    }
    const counts = new Map<string, number>();
    for (const a of answers) {
      const key = `${a.status}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (a.status === 200) {
        assert.deepEqual(result(a.body), expected, 'a 200 differs from the lone answer');
      } else {
        assert.equal(a.status, 429, `${a.status}: ${a.body}`);
        assert.equal(a.body, 'too many outstanding requests\n');
        assert.match(a.retryAfter ?? '', /^[1-9]\d*$/);
      }
    }
    assert.ok((counts.get('200') ?? 0) >= 1, JSON.stringify([...counts]));
    assert.ok((counts.get('429') ?? 0) >= 1, JSON.stringify([...counts]));
    // DuckDB stays within its limit (it refuses memory beyond it); the rest is 500 open requests
    // and the evaluator's work for the few that run: 160 MiB of overhead allowed.
    const bound = before + QUERY_MEMORY_MIB + 160;
    t.diagnostic(`answers ${JSON.stringify([...counts])}; RSS ${before.toFixed(0)} → ${peak.toFixed(0)} MiB`);
    assert.ok(
      peak < bound,
      `RSS peaked at ${peak.toFixed(0)} MiB from ${before.toFixed(0)}; bound ${bound.toFixed(0)}`,
    );
  });

  test('kube lists refused for overload are a TooManyRequests Status with Retry-After', async () => {
    const url = `${server.url}/apis/core.kjournal/v1alpha1/containerlogs?limit=5000`;
    const answers = await Promise.all(Array.from({ length: 300 }, () => get(agent, url)));
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    assert.ok(ok.length >= 1 && refused.length >= 1, `${ok.length} answered, ${refused.length} refused`);
    const items = (a: Answer) => (JSON.parse(a.body) as { items: unknown[] }).items;
    for (const a of ok) assert.deepEqual(items(a), items(ok[0]!));
    for (const a of refused) {
      assert.equal(a.status, 429, a.body);
      assert.match(a.retryAfter ?? '', /^[1-9]\d*$/);
      const status = JSON.parse(a.body) as Record<string, unknown>;
      assert.equal(status.kind, 'Status');
      assert.equal(status.reason, 'TooManyRequests');
      assert.equal(status.code, 429);
      assert.equal((status.details as { retryAfterSeconds: number }).retryAfterSeconds, Number(a.retryAfter));
    }
  });

  test('a query that needs more memory than the limit is a 503 that says so, never a 500', async () => {
    // The smallest limit serve accepts, and the same lines fresh in the write-ahead log (reading
    // them there takes DuckDB more memory than reading Parquet parts): these queries do not fit.
    const small = await startServerProcess({ args: ['--query-memory-limit', '16MiB'] });
    try {
      await fill(small);
      const queries = [
        'sum by (namespace) (count_over_time({app="flood"} |= "hello" [1m]))',
        'sum(rate({app="flood"} | logfmt | unwrap dur [5m]))',
      ];
      let refused = 0;
      for (const query of queries) {
        const url = `${small.url}/loki/api/v1/query_range?${new URLSearchParams({
          query,
          start: String(start),
          end: String(now),
          step: '60',
        })}`;
        const a = await get(agent, url);
        if (a.status === 200) continue;
        assert.equal(a.status, 503, a.body);
        assert.match(a.body, /^the query needs more memory than --query-memory-limit \(16MiB\) leaves it: /);
        assert.match(a.body, /Out of Memory Error/);
        refused++;
      }
      assert.ok(refused >= 1, 'no query ran out of memory: the test no longer tests it');
    } finally {
      await small.stop();
      await removeDir(small.dataDir);
    }
  });
});
