/**
 * `kjournal serve --config FILE` and `kjournal config check FILE`: every flag is a key of the file
 * (derived from commander's options), the command line wins over the environment, which wins over
 * the file, which wins over the defaults; every error of a file is reported at once with its line,
 * and `config check` and `serve` judge a file alike.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Command, Option } from 'commander';
import { stringify } from 'yaml';
import { defineServe } from '../../src/cli/serve.js';
import { applyFileValues, fileKeysOf, readServeFile } from '../../src/cli/serve-file.js';
import { makePki, type Pki } from '../auth/pki.js';
import { freePort } from '../helpers/agent-e2e.js';
import { abacPolicies, httpsCall } from '../helpers/auth-e2e.js';
import { writeTestKubeconfig } from '../helpers/kubeconfig.js';
import { CLI, startServerProcess } from '../helpers/server-process.js';

let dir: string;
let pki: Pki;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kj-serve-file-'));
  pki = makePki();
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  pki.cleanup();
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `kjournal serve ARGS` (no flags of the helper's own) until it says where it serves. */
const serve = (args: string[]) => startServerProcess({ args, bare: true });

const TOKEN = 'serve-file-token';

/**
 * A value for every key of the file: the samples below, else the flag's default. A flag added
 * without a default needs a sample here (the test says which).
 */
async function everyKey(port: number): Promise<Record<string, unknown>> {
  const kubeconfig = await writeTestKubeconfig(dir, 1);
  const samples: Record<string, unknown> = {
    listen: `127.0.0.1:${port}`,
    data: join(dir, 'data-every'),
    retention: '1h',
    rejectOldSamplesMaxAge: '1h',
    maxPushEntries: 100000,
    maxEntriesLimit: 10,
    maxConcurrentQueries: 2,
    maxQueryRange: 0,
    disableTenantHeader: true,
    kubeconfig,
    context: 'rec',
    auditPolicy: 'none',
    ui: false,
    minFreeDisk: 0,
    forwardListen: '127.0.0.1:0',
    forwardSharedKeyFile: write('shared-key', 'forward-key\n'),
    syslogTcp: '127.0.0.1:0',
    syslogUdp: '127.0.0.1:0',
    syslogTls: '127.0.0.1:0',
    gelfUdp: '127.0.0.1:0',
    gelfTcp: '127.0.0.1:0',
    decodeWorkers: 1,
    tlsCertFile: pki.server.certFile,
    tlsPrivateKeyFile: pki.server.keyFile,
    clientCaFile: pki.ca.certFile,
    tokenAuthFile: write('tokens.csv', `${TOKEN},admin,1,"system:masters"\n`),
    requestheaderClientCaFile: pki.requestHeaderCa.certFile,
    requestheaderAllowedNames: ['front-proxy-client'],
    requestheaderGroupHeaders: ['X-Remote-Group'],
    authorizationPolicyFile: write(
      'abac.jsonl',
      abacPolicies([{ user: 'nobody', namespace: '*', resource: '*', apiGroup: '*', readonly: true }]),
    ),
    authenticationKubeconfig: kubeconfig,
    authorizationKubeconfig: kubeconfig,
    'clickhouse.url': 'http://127.0.0.1:1',
    'clickhouse.database': 'kjournal_test',
    'clickhouse.user': 'default',
    'clickhouse.passwordFile': write('ch-password', 'secret\n'),
    'clickhouse.cluster': 'two_shards',
  };
  const out: Record<string, unknown> = {};
  for (const fk of fileKeysOf(defineServe(new Command('serve'))).values()) {
    const v = Object.hasOwn(samples, fk.key) ? samples[fk.key] : fk.option.defaultValue;
    assert.notEqual(v, undefined, `no sample value for the key ${fk.key}: add one to this test`);
    if (fk.path.length === 1) out[fk.key] = v;
    else {
      const section = (out[fk.path[0]!] ?? {}) as Record<string, unknown>;
      section[fk.path[1]!] = v;
      out[fk.path[0]!] = section;
    }
  }
  return out;
}

test('every flag is a key: config check accepts a file with all of them, and serve starts from one alone', async () => {
  const port = await freePort();
  const all = await everyKey(port);
  const keys = fileKeysOf(defineServe(new Command('serve')));
  const full = write('every.yaml', stringify(all));
  const check = run('config', 'check', full);
  assert.equal(check.code, 0, check.stderr);
  assert.equal(
    check.stdout,
    `${full}: valid serve configuration: ${keys.size} settings, 0 outputs, 0 flows\n`,
  );
  assert.equal(check.stderr, '');

  // The ClickHouse keys would put the journal in a ClickHouse this test has not: serve without them.
  const { clickhouse: _, ...local } = all;
  const file = write('every-local.yaml', stringify(local));
  const server = await serve(['--config', file]);
  try {
    assert.equal(server.url, `https://127.0.0.1:${port}`, 'listen and the TLS pair from the file');
    assert.match(server.stderr(), /X-Scope-OrgID is ignored/, 'disableTenantHeader: true');
    assert.match(server.stderr(), /forward on tcp 127\.0\.0\.1:\d+, syslog on tcp/);
    const ca = pki.ca.cert;
    const ui = await httpsCall(`${server.url}/ui/`, ca, { token: TOKEN });
    assert.equal(ui.status, 404, 'ui: false');
    const query = (limit: number) =>
      httpsCall(
        `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app="a"}', limit: String(limit) })}`,
        ca,
        { token: TOKEN },
      );
    assert.equal((await query(10)).status, 200, 'maxEntriesLimit: 10');
    const over = await query(11);
    assert.equal(over.status, 400, over.body);
    assert.match(over.body, /max entries limit per query exceeded, limit > max_entries_limit \(11 > 10\)/);
    // retention: 1h refuses a line two hours old (reject_old_samples_max_age follows it).
    const old = (BigInt(Date.now() - 2 * 3_600_000) * 1_000_000n).toString();
    const push = await httpsCall(`${server.url}/loki/api/v1/push`, ca, {
      token: TOKEN,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { app: 'a' }, values: [[old, 'old line']] }] }),
    });
    assert.equal(push.status, 400, push.body);
    assert.match(push.body, /timestamp too old/);
  } finally {
    await server.stop();
  }
});

test('a flag on the command line wins over the file; the file over the default', async () => {
  const filePort = await freePort();
  const file = write(
    'override.yaml',
    stringify({
      listen: `127.0.0.1:${filePort}`,
      data: join(dir, 'data-override'),
      maxEntriesLimit: 10,
      ui: false,
    }),
  );
  const server = await serve(['--config', file, '--listen', '127.0.0.1:0', '--max-entries-limit', '20']);
  try {
    assert.notEqual(new URL(server.url).port, String(filePort), '--listen wins over listen');
    const query = (limit: number) =>
      fetch(
        `${server.url}/loki/api/v1/query_range?${new URLSearchParams({ query: '{app="a"}', limit: String(limit) })}`,
      );
    assert.equal((await query(15)).status, 200, '--max-entries-limit 20 wins over maxEntriesLimit: 10');
    assert.equal((await query(21)).status, 400);
    assert.equal((await fetch(`${server.url}/ui/`)).status, 404, 'ui: false from the file (no flag given)');
  } finally {
    await server.stop();
  }
});

test('precedence: command line, then environment, then file, then default', () => {
  const cmd = defineServe(new Command('serve'))
    .addOption(new Option('--test-level <level>').env('KJOURNAL_TEST_SERVE_LEVEL'))
    .action(() => undefined);
  process.env.KJOURNAL_TEST_SERVE_LEVEL = 'from-env';
  try {
    cmd.parse(['--max-entries-limit', '7'], { from: 'user' });
  } finally {
    delete process.env.KJOURNAL_TEST_SERVE_LEVEL;
  }
  applyFileValues(
    cmd,
    new Map<string, unknown>([
      ['maxEntriesLimit', '10'],
      ['testLevel', 'from-file'],
      ['queryTimeout', '2m'],
    ]),
  );
  const opts = cmd.opts();
  assert.equal(opts.maxEntriesLimit, '7');
  assert.equal(cmd.getOptionValueSource('maxEntriesLimit'), 'cli');
  assert.equal(opts.testLevel, 'from-env');
  assert.equal(opts.queryTimeout, '2m');
  assert.equal(cmd.getOptionValueSource('queryTimeout'), 'config');
  assert.equal(opts.maxBodySize, '64MiB');
  assert.equal(cmd.getOptionValueSource('maxBodySize'), 'default');
});

test('a flag added later has its key, judged by its choices', async () => {
  const cmd = defineServe(new Command('serve')).addOption(
    new Option('--query-shape <shape>', 'wide or narrow').choices(['wide', 'narrow']).default('wide'),
  );
  assert.ok(fileKeysOf(cmd).has('queryShape'));
  const good = await readServeFile('queryShape: narrow\n', 'f.yaml', cmd, { keepPipeline: false });
  assert.deepEqual(good.errors, []);
  assert.equal(good.values.get('queryShape'), 'narrow');
  const bad = await readServeFile('queryShape: tall\n', 'f.yaml', cmd, { keepPipeline: false });
  assert.deepEqual(bad.errors, ['f.yaml:1:13: queryShape: must be one of wide, narrow, got "tall"']);
});

test("serve's own --log-level and --log-format are keys, judged by their choices", async () => {
  const cmd = defineServe(new Command('serve'));
  const good = await readServeFile('logFormat: json\nlogLevel: debug\n', 'f.yaml', cmd, {
    keepPipeline: false,
  });
  assert.deepEqual(good.errors, []);
  assert.equal(good.values.get('logFormat'), 'json');
  const bad = await readServeFile('logFormat: xml\nlogLevel: loud\n', 'f.yaml', cmd, { keepPipeline: false });
  assert.deepEqual(bad.errors, [
    'f.yaml:1:12: logFormat: must be one of text, json, got "xml"',
    'f.yaml:2:11: logLevel: must be one of debug, info, warn, error, got "loud"',
  ]);
});

test('flow: instead of flows: is an error with a suggestion, from config check (1) and serve (2)', () => {
  const file = write('flow.yaml', 'flow:\n  - name: f\n    outputs: [journal]\n');
  const line = `kjournal: ${file}:1:1: flow: unknown field "flow" (did you mean "flows"?)\n`;
  const check = run('config', 'check', file);
  assert.equal(check.code, 1);
  assert.equal(check.stdout, '');
  assert.equal(check.stderr, line);
  const start = run('serve', '--config', file, '--data', join(dir, 'data-flow'));
  assert.equal(start.code, 2);
  assert.equal(start.stderr, line);
});

test('every error of a file at once, one a line, with its line and column', () => {
  const file = write(
    'many.yaml',
    [
      'listen: 127.0.0.1:3100', // 1
      'retention: forever', // 2
      'maxBodySize: lots', // 3
      'queryTimeout: 0', // 4
      'uii: false', // 5
      'tokenAuthFile: /nonexistent/tokens.csv', // 6
      'maxLineSize: [1, 2]', // 7
      'clickhouseUrl: http://ch:8123', // 8
      'clickhouse:', // 9
      '  databse: k', // 10
      'retentionStream:', // 11
      '  - selector: \'{app="a"}\'', // 12
      '    period: 1x', // 13
      'flows:', // 14
      '  - name: f', // 15
      '    outputs: [nowhere]', // 16
      '',
    ].join('\n'),
  );
  const expected = [
    `${file}:2:12: retention: must be a duration such as 30d or 12h, got "forever"`,
    `${file}:3:14: maxBodySize: must be a size such as 256KB or 64MiB, got "lots"`,
    `${file}:4:15: queryTimeout: must be longer than 0`,
    `${file}:5:1: uii: unknown field "uii" (did you mean "ui"?)`,
    `${file}:6:16: tokenAuthFile: cannot read "/nonexistent/tokens.csv" (no such file)`,
    `${file}:7:14: maxLineSize: must be a string, got a list`,
    `${file}:8:1: clickhouseUrl: unknown field "clickhouseUrl" (did you mean "clickhouse.url"?)`,
    `${file}:10:3: clickhouse.databse: unknown field "databse" (did you mean "database"?)`,
    `${file}:13:13: retentionStream[0].period: must be a duration such as 30d or 1y, got "1x"`,
    `${file}:16:15: flows[0].outputs[0]: unknown output "nowhere" (declared: journal)`,
  ];
  const check = run('config', 'check', file);
  assert.equal(check.code, 1);
  assert.deepEqual(
    check.stderr.trimEnd().split('\n'),
    expected.map((l) => `kjournal: ${l}`),
  );
  const start = run('serve', '--config', file);
  assert.equal(start.code, 2);
  assert.equal(start.stderr, check.stderr, 'serve refuses to start with the same errors');
});

test('config check and serve agree on a bad duration, and with the flag itself', () => {
  const file = write('duration.yaml', `data: ${join(dir, 'data-duration')}\nkubeListWindow: 1.5d\n`);
  const line = `kjournal: ${file}:2:17: kubeListWindow: must be a duration such as 30d or 12h, got "1.5d"\n`;
  const check = run('config', 'check', file);
  const start = run('serve', '--config', file);
  assert.equal(check.code, 1);
  assert.equal(check.stderr, line);
  assert.equal(start.code, 2);
  assert.equal(start.stderr, line);
  const flag = run('serve', '--kube-list-window', '1.5d');
  assert.equal(flag.code, 2);
  assert.equal(
    flag.stderr,
    'kjournal: --kube-list-window must be a duration such as 30d or 12h, got "1.5d"\n',
  );
});

test('decodeWorkers: config check, serve --config and the flag refuse a negative or fractional count alike (exit 2)', () => {
  const file = write('workers.yaml', `data: ${join(dir, 'data-workers')}\ndecodeWorkers: -1\n`);
  const line = `kjournal: ${file}:2:16: decodeWorkers: must be a non-negative integer, got "-1"\n`;
  const check = run('config', 'check', file);
  assert.equal(check.code, 1);
  assert.equal(check.stderr, line);
  const start = run('serve', '--config', file);
  assert.equal(start.code, 2);
  assert.equal(start.stderr, line);
  for (const v of ['-1', '1.5']) {
    const flag = run('serve', '--decode-workers', v);
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, `kjournal: --decode-workers must be a non-negative integer, got "${v}"\n`);
  }
});

test('settings that need each other are checked as serve checks them, named by their keys', () => {
  const file = write('pair.yaml', `tlsCertFile: ${pki.server.certFile}\n`);
  const line = `kjournal: ${file}:1:14: tlsCertFile and tlsPrivateKeyFile must be given together\n`;
  const check = run('config', 'check', file);
  assert.equal(check.code, 1);
  assert.equal(check.stderr, line);
  const open = write('open.yaml', 'listen: 0.0.0.0:3100\n');
  const refused = run('config', 'check', open);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /open\.yaml:1:9: listen: refusing to listen on 0\.0\.0\.0 without authentication/,
  );
});

test('config check tells an agent file from a serve file, and --for says which', () => {
  const agent = write(
    'agent.yaml',
    'server: http://kjournal:3100\nbufer: {}\nflows:\n  - name: f\n    outputs: journal\n',
  );
  const r = run('config', 'check', agent);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `kjournal: ${agent}:2:1: bufer: unknown field "bufer" (did you mean "buffer"?)\n`);
  const asServe = run('config', 'check', '--for', 'serve', agent);
  assert.equal(asServe.code, 1);
  assert.match(asServe.stderr, /agent\.yaml:1:1: server: unknown field "server"/);
  const good = write('agent-good.yaml', 'server: http://kjournal:3100\nbatch: { maxWait: 2s }\n');
  const ok = run('config', 'check', good);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `${good}: valid agent configuration: 0 outputs, 0 flows\n`);
});
