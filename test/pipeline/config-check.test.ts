/**
 * `kjournal config check FILE` through the built CLI: a good file (the example, with the
 * real output and filter types) prints `FILE: valid agent configuration: ...` and exits 0; a bad one prints the located
 * error and exits 1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kj-config-check-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GOOD = `server: http://kjournal:3100
outputs:
  - name: siem
    type: syslog
    url: tcp://siem.example:6514
    retry: { maxBackoffSeconds: 30 }
flows:
  - name: audit-to-siem
    match:
      - exclude: { labels: { namespace: kube-system } }
      - select: { kind: [auditevent] }
    outputs: [siem]
  - name: everything
    outputs: journal
`;

test('kjournal config check: a good file is ok, with its counts', async () => {
  const file = join(dir, 'good.yaml');
  await writeFile(file, GOOD);
  const r = await run(['config', 'check', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${file}: valid agent configuration: 1 output, 2 flows\n`);
  assert.equal(r.stderr, '');
});

test('kjournal config check: a bad file fails with file:line:col, the field and the reason', async () => {
  const file = join(dir, 'bad.yaml');
  await writeFile(file, GOOD.replace('outputs: [siem]', 'outputs: [siem, elk]'));
  const r = await run(['config', 'check', file]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `kjournal: ${file}:12:21: flows[0].outputs[1]: unknown output "elk" (declared: journal, siem)\n`,
  );
  const missing = await run(['config', 'check', join(dir, 'missing.yaml')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `kjournal: ${join(dir, 'missing.yaml')}: cannot read (no such file)\n`);
});
