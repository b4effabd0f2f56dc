/**
 * The server's and the agent's own log (issue 19 item 5): `--log-level`, `--log-format json|text`,
 * one line per event, and the request id of a failed request in its line and in X-Request-Id.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { freePort } from '../helpers/agent-e2e.js';
import { runCliCapturingStderr } from '../helpers/process-info.js';
import { CLI, http, removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

interface JsonLine {
  ts: string;
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** Every line of `stderr` as a JSON object with ts, level and msg; fails on any other line. */
function jsonLines(stderr: string): JsonLine[] {
  return stderr
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const o = JSON.parse(l) as JsonLine;
      assert.match(o.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, l);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(o.level), l);
      assert.equal(typeof o.msg, 'string', l);
      return o;
    });
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const servers: ServerProcess[] = [];
const dirs: string[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of servers) await s.stop();
  for (const d of dirs) await removeDir(d);
});

async function serve(args: string[]): Promise<ServerProcess> {
  const s = await startServerProcess({ args });
  servers.push(s);
  dirs.push(s.dataDir);
  return s;
}

describe('kjournal serve: its own log', () => {
  test('--log-format json --log-level debug: every line one JSON object; a failed request names its X-Request-Id', async () => {
    const s = await serve(['--log-format', 'json', '--log-level', 'debug']);
    const bad = await http(`${s.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app=' })}`);
    assert.equal(bad.status, 400, bad.text);
    const id = bad.headers.get('x-request-id');
    assert.match(id ?? '', /^[0-9a-f]{16}$/);
    // A client's own id (a proxy's) is kept; one with characters a log line must not hold is replaced.
    const given = await http(`${s.url}/no/such/path`, { headers: { 'x-request-id': 'edge-7f3a:42' } });
    assert.equal(given.headers.get('x-request-id'), 'edge-7f3a:42');
    const forged = await http(`${s.url}/no/such/path`, {
      headers: { 'x-request-id': 'a" level=error msg="forged' },
    });
    assert.match(forged.headers.get('x-request-id') ?? '', /^[0-9a-f]{16}$/);
    const long = await http(`${s.url}/ready`, { headers: { 'x-request-id': 'x'.repeat(129) } });
    assert.match(long.headers.get('x-request-id') ?? '', /^[0-9a-f]{16}$/);

    let lines: JsonLine[] = [];
    await until('the request lines', () => {
      lines = jsonLines(s.stderr());
      return lines.some((l) => l.request_id === long.headers.get('x-request-id'));
    });
    const failed = lines.filter((l) => l.request_id === id);
    assert.equal(failed.length, 1, s.stderr());
    assert.deepEqual(
      { ...failed[0], ts: undefined, duration_seconds: undefined },
      {
        ts: undefined,
        level: 'debug',
        msg: 'request',
        request_id: id,
        method: 'GET',
        path: '/loki/api/v1/query_range',
        route: 'loki_api_v1_query_range',
        status: 400,
        duration_seconds: undefined,
        tenant: 'default',
      },
    );
    assert.equal(typeof failed[0]!.duration_seconds, 'number');
    assert.equal(lines.filter((l) => l.request_id === 'edge-7f3a:42').length, 1);
    assert.ok(
      lines.some((l) => l.level === 'info' && /serving on http/.test(l.msg)),
      s.stderr(),
    );
    // The query string (a query's text, perhaps a token) stays out of the log.
    assert.ok(!s.stderr().includes('{app='), s.stderr());
  });

  test('--log-format text: time, level, message and quoted fields on one line per event', async () => {
    const s = await serve(['--log-format', 'text', '--log-level', 'debug']);
    const r = await http(`${s.url}/no/such/path`);
    const id = r.headers.get('x-request-id')!;
    await until('the request line', () => s.stderr().includes(id));
    const line = s
      .stderr()
      .split('\n')
      .find((l) => l.includes(id))!;
    assert.match(
      line,
      new RegExp(
        `^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z debug request request_id=${id} method=GET path=/no/such/path route=other status=404 duration_seconds=[\\d.e-]+ tenant=default$`,
      ),
    );
    for (const l of s
      .stderr()
      .split('\n')
      .filter((x) => x !== ''))
      assert.match(l, /^\d{4}-\d\d-\d\dT[\d:.]+Z (debug|info|warn|error) \S/, l);
    // A value with spaces or quotes is quoted, as a JSON string.
    assert.match(s.stderr(), / info kjournal serving on http:\S+ \(data in [^)]+\) version=\d/);
  });

  test('at the default level (info) requests that succeed or fail with 4xx are not logged', async () => {
    const s = await serve([]);
    const r = await http(`${s.url}/no/such/path`);
    const id = r.headers.get('x-request-id')!;
    await http(`${s.url}/ready`);
    await new Promise((res) => setTimeout(res, 100));
    assert.ok(!s.stderr().includes(id), s.stderr());
    assert.match(s.stderr(), / info kjournal serving on /);
  });

  test('--log-level error: no info lines, from start to shutdown', async () => {
    const port = await freePort();
    const data = await mkdtemp(join(tmpdir(), 'kj-log-error-'));
    dirs.push(data);
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--data', data, '--log-level', 'error'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const url = `http://127.0.0.1:${port}`;
    let up = false;
    for (let i = 0; i < 200 && !up; i++) {
      up = await fetch(`${url}/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(up, `the server did not start: ${err}`);
    assert.equal((await http(`${url}/nope`)).status, 404);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(err, '', 'nothing under error was written');
  });
});

describe('--log-level and --log-format: bad values', () => {
  for (const command of ['serve', 'agent']) {
    for (const [flag, value] of [
      ['--log-level', 'loud'],
      ['--log-format', 'xml'],
    ] as const) {
      test(`${command} ${flag} ${value}: exit 2 with a one-line reason`, async () => {
        const { code, stderr } = await runCliCapturingStderr([command, flag, value]);
        assert.equal(code, 2);
        const lines = stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, stderr);
        assert.ok(lines[0]!.includes(flag) && lines[0]!.includes(value), stderr);
      });
    }
  }

  test('KJOURNAL_LOG_LEVEL is read, and checked as the flag is', async () => {
    process.env.KJOURNAL_LOG_LEVEL = 'loud';
    try {
      const { code, stderr } = await runCliCapturingStderr(['serve']);
      assert.equal(code, 2);
      assert.match(stderr, /--log-level/);
      assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
    } finally {
      delete process.env.KJOURNAL_LOG_LEVEL;
    }
  });
});

describe('kjournal agent: its own log', () => {
  test('--log-format json: start, stop and a shipping failure are JSON lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kj-agent-log-'));
    dirs.push(dir);
    const pods = join(dir, 'pods');
    await mkdir(pods);
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        CLI,
        'agent',
        '--server',
        `http://127.0.0.1:${port}`,
        '--state-dir',
        join(dir, 'state'),
        '--pods-dir',
        pods,
        '--log-format',
        'json',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KJOURNAL_LOG_LEVEL: 'debug' } },
    );
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await until(`the agent starts (${err})`, () => err.includes('shipping'));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    const lines = jsonLines(err);
    const start = lines.find((l) =>
      /kjournal agent: shipping pods to http:\/\/127\.0\.0\.1:\d+\//.test(l.msg),
    );
    assert.equal(start?.level, 'info', err);
    assert.equal(typeof start?.version, 'string');
    assert.ok(
      lines.some((l) => l.msg === 'kjournal agent: stopping' && l.level === 'info'),
      err,
    );
    assert.ok(
      lines.some((l) => l.msg === 'kjournal agent: stopped'),
      err,
    );
    await rm(join(dir, 'state'), { recursive: true, force: true });
  });
});
