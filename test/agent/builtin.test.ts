/**
 * `kjournal agent` with the built-in sources, end to end: the real CLI reads a kubelet pod-log
 * tree and listens for syslog over TCP, and ships both to the real server, where LogQL finds them
 * with their labels.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../helpers/agent-e2e.js';
import { allValues, CLI, queryRange, removeDir, startServerProcess } from '../helpers/server-process.js';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('kjournal agent ships pod logs and syslog from the built-in sources', async () => {
  const server = await startServerProcess();
  const dir = await mkdtemp(join(tmpdir(), 'kj-agent-builtin-'));
  const container = join(dir, 'pods', 'shop_web-1_0f1e2d3c-aaaa-bbbb-cccc-123456789abc', 'app');
  await mkdir(container, { recursive: true });
  const now = new Date(Date.now() - 5000).toISOString().replace('Z', '123456Z');
  await writeFile(join(container, '0.log'), `${now} stdout F hello from a pod\n`);
  const port = await freePort();
  const agent = spawn(
    process.execPath,
    [
      CLI,
      'agent',
      '--server',
      server.url,
      '--state-dir',
      join(dir, 'state'),
      '--pods-dir',
      join(dir, 'pods'),
      '--syslog-tcp',
      `127.0.0.1:${port}`,
      '--node',
      'node-7',
      '--batch-max-wait',
      '100ms',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  agent.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
  try {
    const start = `${BigInt(Date.now() - 3_600_000) * 1_000_000n}`;
    const pod = await until('the pod line', async () => {
      const r = await queryRange(server.url, { query: '{namespace="shop", pod="web-1"}', start });
      return r.data.result.length > 0 ? r : undefined;
    });
    assert.deepEqual(
      allValues(pod).map(([, line]) => line),
      ['hello from a pod'],
    );
    assert.equal(pod.data.result[0]!.stream.container, 'app');
    assert.equal(pod.data.result[0]!.stream.node, 'node-7');

    // The syslog listener is up once the agent has shipped its first batch; send one frame.
    const frame = '<165>1 2026-11-23T10:00:00.000Z host-a app-x 42 ID7 - syslog over tcp';
    await until('the syslog listener', async () => {
      try {
        await new Promise<void>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => {
            s.end(`${Buffer.byteLength(frame)} ${frame}`, () => resolve());
          });
          s.on('error', reject);
        });
        return true;
      } catch {
        return undefined;
      }
    });
    const sys = await until('the syslog line', async () => {
      const r = await queryRange(server.url, {
        query: '{source="syslog"}',
        start: `${BigInt(Date.parse('2026-11-23T09:00:00Z')) * 1_000_000n}`,
      });
      return r.data.result.length > 0 ? r : undefined;
    });
    assert.deepEqual(
      allValues(sys).map(([, line]) => line),
      ['syslog over tcp'],
    );
    assert.equal(sys.data.result[0]!.stream.node, 'node-7');
  } finally {
    agent.kill('SIGTERM');
    const code = await exited;
    await server.stop();
    await removeDir(server.dataDir);
    await rm(dir, { recursive: true, force: true });
    assert.equal(code, 0, stderr);
  }
});
