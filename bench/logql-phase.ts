/**
 * @module The LogQL benchmark phase (issue 3's targets): a count_over_time at one-minute steps over
 * 24 h for one namespace; `| json | level="error"` over all data against `jq` selecting the same
 * lines from the raw NDJSON in the same run; and how long `/loki/api/v1/tail` takes to deliver a
 * pushed line.
 */
import { spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import WebSocket from 'ws';
import { queryScalar, type Timing, timeRuns } from './queries.js';
import { fmtInt, fmtTiming } from './report.js';

const say = (text: string): void => void process.stdout.write(`${text}\n`);
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

export interface LogqlPlan {
  readonly baseUrl: string;
  readonly runs: number;
  readonly rawPath: string;
  readonly now: bigint;
  readonly namespace: string;
  readonly rangeHours: number;
}

export interface Measured {
  readonly query: string;
  readonly timing?: Timing;
  readonly error?: string;
  readonly agrees: boolean;
  readonly detail?: string;
}

export interface LogqlOutcome {
  readonly metricRange: Measured;
  readonly jsonFilter: Measured & { readonly jq?: Timing; readonly ratio?: number };
  readonly tail: Measured;
}

function getJson(agent: Agent, url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200)
          reject(new Error(`GET ${url} answered ${res.statusCode}: ${body.slice(0, 300)}`));
        else resolve(JSON.parse(body));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** grep -c of a fixed string, for the expected count of a namespace's lines. */
function grepCount(pattern: string, file: string): number {
  const r = spawnSync('grep', ['-c', '-F', pattern, file], {
    env: { ...process.env, LC_ALL: 'C' },
    encoding: 'utf8',
  });
  return Number(r.stdout.trim());
}

async function metricRange(agent: Agent, plan: LogqlPlan): Promise<Measured> {
  const query = `count_over_time({namespace="${plan.namespace}"}[1m])`;
  const start = plan.now - 24n * 3_600_000_000_000n;
  const qs = new URLSearchParams({ query, start: String(start), end: String(plan.now), step: '60' });
  const expected = grepCount(`"namespace":"${plan.namespace}"`, plan.rawPath);
  try {
    const r = await timeRuns(plan.runs, async () => {
      const body = (await getJson(agent, `${plan.baseUrl}/loki/api/v1/query_range?${qs}`)) as {
        data?: { resultType?: string; result?: { values?: [number, string][] }[] };
      };
      if (body.data?.resultType !== 'matrix')
        throw new Error(`resultType ${body.data?.resultType}, expected matrix`);
      let sum = 0;
      let points = 0;
      for (const s of body.data.result ?? []) {
        for (const [, v] of s.values ?? []) {
          sum += Number(v);
          points++;
        }
      }
      return { sum, points, series: body.data.result?.length ?? 0 };
    });
    const agrees = r.result.sum === expected;
    say(
      `query d: ${query} step 1m over 24h: ${fmtTiming(r.timing)}; ${r.result.series} series, ${fmtInt(r.result.points)} points summing to ${fmtInt(r.result.sum)} ` +
        (agrees ? "(= the namespace's lines, by grep)" : `(MISMATCH: grep counts ${fmtInt(expected)})`),
    );
    return { query, timing: r.timing, agrees };
  } catch (err) {
    say(`query d: ${query} FAILED: ${message(err)}`);
    return { query, error: message(err), agrees: false };
  }
}

async function jsonFilter(agent: Agent, plan: LogqlPlan): Promise<LogqlOutcome['jsonFilter']> {
  const query = `sum(count_over_time({kind=~".+"} | json | level="error" [${plan.rangeHours}h]))`;
  const jqProgram =
    'reduce (inputs | select((.line | fromjson? | objects | .level) == "error")) as $x (0; . + 1)';
  const runs = Math.min(plan.runs, 3);
  let jq: { timing: Timing; result: number };
  try {
    jq = await timeRuns(runs, async () => {
      const r = spawnSync('jq', ['-n', jqProgram, plan.rawPath], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (r.status !== 0) throw new Error(`jq failed (${r.status}): ${r.stderr.slice(0, 300)}`);
      return Number(r.stdout.trim());
    });
  } catch (err) {
    say(`query e: jq FAILED: ${message(err)}`);
    return { query, error: `jq: ${message(err)}`, agrees: false };
  }
  try {
    const k = await timeRuns(runs, () => queryScalar(agent, plan.baseUrl, query, plan.now));
    const agrees = k.result === jq.result;
    const ratio = k.timing.medianMs / jq.timing.medianMs;
    say(
      `query e: ${query}\n  kjournal ${fmtTiming(k.timing)} -> ${fmtInt(k.result)}\n  jq ${fmtTiming(jq.timing)} -> ${fmtInt(jq.result)}\n` +
        `  counts ${agrees ? 'agree' : 'DISAGREE'}; kjournal/jq = ${ratio.toFixed(2)}`,
    );
    return { query, timing: k.timing, agrees, jq: jq.timing, ratio };
  } catch (err) {
    say(`query e: ${query} FAILED: ${message(err)}`);
    return { query, error: message(err), agrees: false, jq: jq.timing };
  }
}

function push(baseUrl: string, line: string): Promise<void> {
  const body = JSON.stringify({
    streams: [{ stream: { app: 'tail-probe' }, values: [[String(BigInt(Date.now()) * 1_000_000n), line]] }],
  });
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}/loki/api/v1/push`,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 204 ? resolve() : reject(new Error(`push answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function tail(plan: LogqlPlan): Promise<Measured> {
  const query = '{app="tail-probe"}';
  const url = `${plan.baseUrl.replace(/^http/, 'ws')}/loki/api/v1/tail?${new URLSearchParams({ query })}`;
  let ws: WebSocket | undefined;
  try {
    ws = new WebSocket(url);
    const socket = ws;
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    // Let the server register the subscription before the first push.
    await new Promise((r) => setTimeout(r, 300));
    let n = 0;
    const r = await timeRuns(plan.runs, async () => {
      const marker = `tail probe ${n++} ${Math.random()}`;
      const arrived = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no tail frame within 5 s')), 5000);
        const onMessage = (data: WebSocket.RawData): void => {
          if (data.toString().includes(marker)) {
            clearTimeout(timer);
            socket.off('message', onMessage);
            resolve();
          }
        };
        socket.on('message', onMessage);
      });
      await push(plan.baseUrl, marker);
      await arrived;
    });
    say(
      `tail: a pushed line reached a /tail client in ${fmtTiming(r.timing)} (push acknowledged to frame received)`,
    );
    return { query, timing: r.timing, agrees: true };
  } catch (err) {
    say(`tail: FAILED: ${message(err)}`);
    return { query, error: message(err), agrees: false };
  } finally {
    ws?.close();
  }
}

export async function runLogqlQueries(plan: LogqlPlan): Promise<LogqlOutcome> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const m = await metricRange(agent, plan);
    const j = await jsonFilter(agent, plan);
    const t = await tail(plan);
    return { metricRange: m, jsonFilter: j, tail: t };
  } finally {
    agent.destroy();
  }
}
