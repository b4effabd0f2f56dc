/**
 * `kjournal agent` end to end through the CLI code (config file + flags → registry → Agent →
 * metrics server → SIGTERM), with a test source registered as the `pods` factory by a child script.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nowNs } from '../../src/model/time.js';
import { freePort, linesOf, tally, until } from '../helpers/agent-e2e.js';
import { removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const CHILD = fileURLToPath(new URL('../helpers/agent-cli-child.js', import.meta.url));

let server: ServerProcess | undefined;
let dir: string | undefined;
let agent: ReturnType<typeof spawn> | undefined;
after(async () => {
  // A failed test must not leave the agent running (it would keep the test process alive).
  if (agent?.exitCode === null) agent.kill('SIGKILL');
  await server?.stop('SIGKILL');
  if (server) await removeDir(server.dataDir);
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('kjournal agent ships, serves /metrics and /ready, and stops cleanly on SIGTERM', async () => {
  server = await startServerProcess();
  dir = await mkdtemp(join(tmpdir(), 'kj-agent-cli-'));
  const port = await freePort();
  const config = join(dir, 'agent.yaml');
  await writeFile(
    config,
    `server: http://127.0.0.1:1\nstateDir: ${join(dir, 'state')}\nnode: from-file\n` +
      `batch: { maxWait: 20ms }\npods: { dir: /nowhere }\n`,
  );
  const base = nowNs() - 60_000_000_000n;
  // --server and --node win over the file.
  const child = spawn(
    process.execPath,
    [
      CHILD,
      String(base),
      '--config',
      config,
      '--server',
      server.url,
      '--node',
      'worker-9',
      '--metrics',
      `127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  agent = child;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = server.url;
  await until(`all lines stored (${stderr})`, async () => {
    const lines = await linesOf(url, 'cli', base, base + 200_000n);
    return lines.length >= 200;
  });
  assert.match(stderr, /kjournal agent: shipping pods to http:\/\/127\.0\.0\.1:\d+\/; metrics on/);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.match(metrics, /^kjournal_agent_read_records_total\{source="pods"\} 200$/m);
  assert.equal((await fetch(`http://127.0.0.1:${port}/ready`)).status, 200);
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  const { missing, repeated } = tally(await linesOf(url, 'cli', base, base + 200_000n), 200);
  assert.deepEqual(missing, []);
  assert.deepEqual(repeated, []);
  const res = await fetch(
    `${url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{job="cli", node="worker-9"}', start: String(base), end: String(base + 200_000n), limit: '1' })}`,
  );
  assert.match(await res.text(), /worker-9/, 'the --node flag reached the source factory');
  const saved = JSON.parse(await readFile(join(dir, 'state', 'positions.json'), 'utf8')) as {
    sources: { pods: { next: number } };
  };
  assert.equal(saved.sources.pods.next, 200);
});
