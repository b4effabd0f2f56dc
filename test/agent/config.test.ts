import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import {
  type AgentFlags,
  ConfigError,
  loadAgentConfig,
  mergeConfig,
  parseConfigFile,
} from '../../src/agent/config.js';
import { AgentMetrics, serveMetrics } from '../../src/agent/metrics.js';
import {
  buildSources,
  registerSourceFactory,
  SourceUnavailableError,
  unregisterSourceFactory,
} from '../../src/sources/registry.js';
import type { Source } from '../../src/sources/source.js';
import { CLI } from '../helpers/server-process.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const YAML = `
server: http://kj.example:3100
stateDir: /var/lib/kj
node: worker-1
metrics: ":9101"
buffer: { maxBytes: 64MiB }
batch: { maxBytes: 512KiB, maxWait: 250ms }
pods: { dir: /logs/pods }
journal: { dir: /run/log/journal, matches: [SYSLOG_IDENTIFIER=kata] }
syslog: { udp: "0.0.0.0:5140" }
`;

test('the YAML file is read, and flags win over it', () => {
  const file = parseConfigFile(YAML, 'agent.yaml');
  const c = mergeConfig(file, {});
  assert.equal(c.server, 'http://kj.example:3100');
  assert.equal(c.stateDir, '/var/lib/kj');
  assert.equal(c.node, 'worker-1');
  assert.equal(c.metrics, ':9101');
  assert.equal(c.bufferMaxBytes, 64 * 1024 * 1024);
  assert.equal(c.batchMaxBytes, 512 * 1024);
  assert.equal(c.batchMaxWaitMs, 250);
  assert.deepEqual(c.sources, {
    pods: { dir: '/logs/pods' },
    journal: { dir: '/run/log/journal', matches: ['SYSLOG_IDENTIFIER=kata'] },
    syslog: { udp: '0.0.0.0:5140' },
  });
  const flags: AgentFlags = {
    server: 'http://other:3100',
    node: 'worker-2',
    batchMaxWait: '2s',
    bufferMaxBytes: '1GiB',
    podsDir: '/var/log/pods',
    journal: ['_SYSTEMD_UNIT=kubelet.service'],
    syslogTcp: '127.0.0.1:601',
    auditLog: '/var/log/audit.log',
    events: true,
    kubeconfig: '/etc/kc',
  };
  const m = mergeConfig(file, flags);
  assert.equal(m.server, 'http://other:3100');
  assert.equal(m.node, 'worker-2');
  assert.equal(m.batchMaxWaitMs, 2000);
  assert.equal(m.bufferMaxBytes, 1024 ** 3);
  assert.equal(m.batchMaxBytes, 512 * 1024, 'from the file');
  assert.deepEqual(m.sources, {
    pods: { dir: '/var/log/pods' },
    audit: { path: '/var/log/audit.log' },
    events: { kubeconfig: '/etc/kc' },
    journal: { dir: '/run/log/journal', matches: ['_SYSTEMD_UNIT=kubelet.service'] },
    syslog: { tcp: '127.0.0.1:601', udp: '0.0.0.0:5140' },
  });
});

test('defaults: pod logs from /var/log/pods when no source is configured', () => {
  const c = mergeConfig({}, {});
  assert.equal(c.server, 'http://127.0.0.1:3100');
  assert.equal(c.stateDir, '/var/lib/kjournal-agent');
  assert.equal(c.bufferMaxBytes, 256 * 1024 * 1024);
  assert.equal(c.batchMaxBytes, 1024 * 1024);
  assert.equal(c.batchMaxWaitMs, 1000);
  assert.deepEqual(c.sources, { pods: { dir: '/var/log/pods' } });
  assert.deepEqual(mergeConfig({}, { journal: true }).sources, { journal: { matches: [] } });
  assert.deepEqual(mergeConfig({ pods: false, events: {} }, {}).sources, { events: {} });
});

test('errors are one line and name the field or flag', async () => {
  const cases: [Record<string, unknown>, AgentFlags, RegExp][] = [
    [
      { batch: { maxWait: 'soon' } },
      {},
      /^batch\.maxWait: must be a duration such as 1s or 500ms, got "soon"$/,
    ],
    [{}, { batchMaxWait: 'x' }, /^--batch-max-wait: must be a duration/],
    [{ buffer: { maxBytes: '12 parsecs' } }, {}, /^buffer\.maxBytes: must be a size/],
    [{ bufer: {} }, {}, /^bufer: unknown field \(did you mean "buffer"\? known: server, /],
    [
      { pods: { directory: '/x' } },
      {},
      /^pods\.directory: unknown field \(known: dir, labels, kubeconfig\)$/,
    ],
    [{ pods: { labels: 'yes' } }, {}, /^pods\.labels: must be true or false, got "yes"$/],
    [{ pods: { kubeconfig: '/k' } }, {}, /^pods\.kubeconfig: only used with pods\.labels: true$/],
    [{ audit: {} }, {}, /^audit\.path: is required$/],
    [{ journal: { matches: ['kata'] } }, {}, /^journal\.matches\[0\]: must be FIELD=VALUE/],
    [{ syslog: {} }, {}, /^syslog: needs tcp or udp/],
    [{ server: 'ftp://x' }, {}, /^server: must be an http/],
    [{}, { kubeconfig: '/k' }, /^--kubeconfig: only used by the events source/],
    [{ node: 42 }, {}, /^node: must be a non-empty string, got 42$/],
  ];
  for (const [file, flags, re] of cases) {
    assert.throws(
      () => mergeConfig(file, flags),
      (err: Error) => err instanceof ConfigError && re.test(err.message) && !err.message.includes('\n'),
      `${JSON.stringify(file)} ${JSON.stringify(flags)}`,
    );
  }
  dir = await mkdtemp(join(tmpdir(), 'kj-agent-config-'));
  const path = join(dir, 'agent.yaml');
  await writeFile(path, 'batch:\n  maxBytes: lots\n');
  await assert.rejects(loadAgentConfig({ config: path }), {
    message: `${path}: batch.maxBytes: must be a size such as 1MiB or 256MB, got "lots"`,
  });
  await writeFile(path, 'server: [unclosed\n');
  await assert.rejects(loadAgentConfig({ config: path }), (e: Error) => /not valid YAML/.test(e.message));
  await assert.rejects(loadAgentConfig({ config: join(dir, 'none.yaml') }), /cannot read \(no such file\)/);
});

test('sources are built through the registry; a kind with no factory is one clear error', async () => {
  const config = mergeConfig({ audit: { path: '/a.log' }, syslog: { tcp: ':1', udp: ':2' } }, { node: 'n1' });
  const made: unknown[] = [];
  const fake = (name: string): Source => ({ name, run: async () => undefined });
  registerSourceFactory('audit', (s, ctx) => {
    made.push([s.path, ctx.node]);
    return fake('audit');
  });
  try {
    await assert.rejects(buildSources(config), (e: Error) => {
      return (
        e instanceof SourceUnavailableError &&
        e.message === 'the syslog source is not available in this build'
      );
    });
    registerSourceFactory('syslog', (s) => [fake(`syslog-tcp ${s.tcp}`), fake(`syslog-udp ${s.udp}`)]);
    const sources = await buildSources(config);
    assert.deepEqual(
      sources.map((s) => s.name),
      ['audit', 'syslog-tcp :1', 'syslog-udp :2'],
    );
    assert.deepEqual(made.at(-1), ['/a.log', 'n1']);
  } finally {
    unregisterSourceFactory('audit');
    unregisterSourceFactory('syslog');
  }
});

test('GET /metrics and /ready', async () => {
  const metrics = new AgentMetrics();
  let ready = false;
  const server = await serveMetrics('127.0.0.1:0', metrics.registry, () => ready);
  try {
    metrics.problems.inc({ source: 'pods', reason: 'corrupt_line' });
    metrics.setFull(true);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /^kjournal_agent_problems_total\{source="pods",reason="corrupt_line"\} 1$/m);
    assert.match(text, /^kjournal_agent_buffer_full 1$/m);
    assert.equal((await fetch(`${server.url}/ready`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${server.url}/ready`)).status, 200);
    assert.equal((await fetch(`${server.url}/other`)).status, 404);
  } finally {
    await server.close();
  }
});

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'agent', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

test('kjournal agent: a bad source setting or a bad flag fails with one line and exit 2', async () => {
  dir = await mkdtemp(join(tmpdir(), 'kj-agent-cli-'));
  const journal = await runCli(['--state-dir', dir, '--journal', 'kata']);
  assert.equal(journal.code, 2, journal.stderr);
  assert.match(journal.stderr.trim(), /FIELD=VALUE/);
  assert.equal(journal.stderr.trim().split('\n').length, 1);
  const bad = await runCli(['--state-dir', dir, '--batch-max-wait', 'forever']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr.trim(), /--batch-max-wait: must be a duration such as 1s or 500ms, got "forever"$/);
});
