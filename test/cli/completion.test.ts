/**
 * `kjournal completion bash|zsh|fish`: the scripts are generated for every shell, and the bash one is
 * run by bash as bash's completion would (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT, then the
 * function, then COMPREPLY), label names and values coming from a real server with a pushed line.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import {
  CLI,
  pushJson,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';
import { runCli } from './fake-loki.js';

const run = promisify(execFile);
let server: ServerProcess;
let dir: string;
let bashFile: string;

before(async () => {
  server = await startServerProcess();
  const r = await pushJson(server.url, {
    streams: [
      { stream: { app: 'checkout', env: 'prod' }, values: [[`${BigInt(Date.now()) * 1_000_000n}`, 'hello']] },
      { stream: { app: 'cart', env: 'prod' }, values: [[`${BigInt(Date.now()) * 1_000_000n}`, 'hello']] },
    ],
  });
  assert.equal(r.status, 204, r.text);
  dir = await mkdtemp(join(tmpdir(), 'kj-completion-'));
  const script = await runCli(['completion', 'bash']);
  assert.equal(script.code, 0, script.stderr);
  bashFile = join(dir, 'kjournal.bash');
  await writeFile(bashFile, script.stdout);
});
after(async () => {
  await server.stop();
  await removeDir(server.dataDir);
  await removeDir(dir);
});

/** COMPREPLY after completing `line` (the cursor at its end) in bash, one word per element. */
async function complete(line: string, env: Record<string, string> = {}): Promise<string[]> {
  const words = line.split(' ');
  // Bash's own ${...} expansions, not template placeholders.
  const program = [
    `kjournal() { ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"; }`,
    `source ${JSON.stringify(bashFile)}`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's expansion
    'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}',
    '_kjournal',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's expansion
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const { stdout, stderr } = await run('bash', ['-c', program, 'bash', ...words], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
  });
  assert.equal(stderr, '', 'completion prints nothing on stderr');
  return stdout.split('\n').filter((w) => w !== '');
}

test('completion: a script for bash, zsh and fish, naming every command', async () => {
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await runCli(['completion', shell]);
    assert.equal(r.code, 0, r.stderr);
    for (const cmd of ['query', 'labels', 'get', 'timeline', 'completion'])
      assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`));
    assert.doesNotMatch(r.stdout, /-a __complete|'__complete'/, 'the hidden command is not offered');
  }
  assert.match((await runCli(['completion', 'bash'])).stdout, /^complete -o default -F _kjournal kjournal$/m);
  assert.match((await runCli(['completion', 'zsh'])).stdout, /^#compdef kjournal\n[\s\S]*bashcompinit/);
  const fish = (await runCli(['completion', 'fish'])).stdout;
  assert.match(fish, /^complete -c kjournal -n __fish_use_subcommand -a query -d /m);
  assert.match(fish, /__fish_seen_subcommand_from query' -l server -r -d /);
  assert.match(fish, /__complete labels/);
  const bad = await runCli(['completion', 'tcsh']);
  assert.equal(bad.code, 2);
  // bash accepts it as a script.
  await run('bash', ['-n', bashFile]);
});

test('completion (bash): commands, subcommands, flags and resource kinds', async () => {
  assert.deepEqual(await complete('kjournal que'), ['query']);
  assert.deepEqual(await complete('kjournal config '), ['check']);
  assert.deepEqual(await complete('kjournal query --li'), ['--limit']);
  assert.ok((await complete('kjournal labels --')).includes('--tenant'));
  assert.deepEqual(await complete('kjournal get c'), ['containerlogs', 'containerlog', 'clog']);
  assert.deepEqual(await complete('kjournal get ka'), ['kaudit']);
  assert.deepEqual(await complete('kjournal completion z'), ['zsh']);
});

test('completion (bash): label names and values from the server', async () => {
  const env = { KJOURNAL_SERVER: server.url };
  const names = await complete('kjournal labels ', env);
  assert.ok(names.includes('app') && names.includes('env'), names.join(','));
  assert.deepEqual(await complete('kjournal query {ap', env), ['{app']);
  assert.deepEqual(await complete('kjournal query {app="c', env), ['{app="cart', '{app="checkout']);
  assert.deepEqual(await complete('kjournal query {env="prod",app=~"ch', env), [
    '{env="prod",app=~"checkout',
  ]);
  // The server from a --server on the line being completed, no variable.
  assert.deepEqual(await complete(`kjournal query --server ${server.url} {app="ca`), [`{app="cart`]);
  // Nothing on error: a server that is not there, or no server at all.
  assert.deepEqual(await complete('kjournal query {app="c', { KJOURNAL_SERVER: 'http://127.0.0.1:9' }), []);
  assert.deepEqual(await complete('kjournal labels ', { KJOURNAL_SERVER: 'not a url' }), []);
});

test('completion: __complete prints one word per line, and nothing with exit 0 on error', async () => {
  let r = await runCli(['__complete', 'values', 'app', '--server', server.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'cart\ncheckout\n');
  r = await runCli(['__complete', 'labels', '--server', 'http://127.0.0.1:9']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
});
