/**
 * `kill -9` of the agent mid-stream, twice, then a clean run to the end: against the real server,
 * every line arrives and none twice (the only possible duplicate is a batch the server stored but
 * whose ack the killed agent had not yet committed; see src/agent/shipper.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nowNs } from '../../src/model/time.js';
import { linesOf, tally, until } from '../helpers/agent-e2e.js';
import { removeDir, type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const CHILD = fileURLToPath(new URL('../helpers/agent-child.js', import.meta.url));

let server: ServerProcess | undefined;
let stateDir: string | undefined;
after(async () => {
  await server?.stop('SIGKILL');
  if (server) await removeDir(server.dataDir);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

async function savedNext(dir: string): Promise<number> {
  try {
    const s = JSON.parse(await readFile(join(dir, 'positions.json'), 'utf8')) as {
      sources: { counter?: { next?: number } };
    };
    return s.sources.counter?.next ?? 0;
  } catch {
    return 0;
  }
}

function startChild(dir: string, url: string, total: number, base: bigint) {
  const child = spawn(process.execPath, [CHILD, dir, url, String(total), String(base)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    stderr: () => err,
    started: () => until(`child started (${err})`, () => err.includes('started') || child.exitCode !== null),
    async kill(signal: NodeJS.Signals) {
      child.kill(signal);
      await exited;
    },
  };
}

test('kill -9 of the agent mid-stream loses no line and repeats none', async (t) => {
  server = await startServerProcess();
  stateDir = await mkdtemp(join(tmpdir(), 'kj-agent-kill-'));
  const total = 3000;
  const base = nowNs() - 60_000_000_000n;
  const kills: number[] = [];
  let recovered = 0;
  for (const at of [300, 1200]) {
    const c = startChild(stateDir, server.url, total, base);
    await c.started();
    if (c.stderr().includes('already stored')) recovered++;
    await until(`positions past ${at}`, async () => (await savedNext(stateDir!)) >= at);
    await c.kill('SIGKILL');
    kills.push(await savedNext(stateDir));
  }
  assert.ok(kills[0]! < total && kills[1]! < total, `killed mid-stream: ${kills}`);
  const c = startChild(stateDir, server.url, total, base);
  await c.started();
  if (c.stderr().includes('already stored')) recovered++;
  t.diagnostic(
    `killed at ${kills}; restarts that found an acknowledged batch not yet committed: ${recovered}`,
  );
  await until('everything acknowledged', async () => (await savedNext(stateDir!)) === total, 15_000).catch(
    async (e: Error) => {
      throw new Error(`${e.message}; saved ${await savedNext(stateDir!)}; agent said: ${c.stderr()}`);
    },
  );
  await c.kill('SIGTERM');
  const { missing, repeated } = tally(
    await linesOf(server.url, 'killtest', base, base + BigInt(total) * 1000n),
    total,
  );
  assert.deepEqual(missing, [], 'no line lost');
  assert.deepEqual(repeated, [], 'no line repeated');
});
