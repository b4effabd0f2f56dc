/**
 * `kjournal serve` reads its data directory from KJOURNAL_DATA when --data is not given (the image
 * sets KJOURNAL_DATA=/var/lib/kjournal), and --data on the command line wins over it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CLI } from '../helpers/server-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'kj-data-env-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Starts serve in `cwd` with `env` and `args`, returns what it says about its data, then stops it. */
async function dataLine(args: string[], env: Record<string, string>, cwd: string): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 20_000);
      child.stderr.on('data', (d: Buffer) => {
        err += d;
        const m = /serving on \S+ \((data in [^)]*)\)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited with ${code}: ${err}`));
      });
    });
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
}

test('serve: KJOURNAL_DATA stands in for --data, and --data wins over it', async () => {
  const cwd = join(tmp, 'cwd');
  const fromEnv = join(tmp, 'from-env');
  const fromFlag = join(tmp, 'from-flag');
  mkdirSync(cwd);
  assert.equal(await dataLine([], { KJOURNAL_DATA: fromEnv }, cwd), `data in ${fromEnv}`);
  assert.ok(existsSync(join(fromEnv, 'LOCK')));
  assert.equal(existsSync(join(cwd, 'data')), false, 'not ./data');
  assert.equal(await dataLine(['--data', fromFlag], { KJOURNAL_DATA: fromEnv }, cwd), `data in ${fromFlag}`);
  // Unset: the default ./data, in the working directory.
  assert.equal(await dataLine([], {}, cwd), 'data in ./data');
  assert.ok(existsSync(join(cwd, 'data', 'LOCK')));
});
