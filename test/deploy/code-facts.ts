/**
 * @module What the code has, for the checks of test/deploy/: the metric names registered in src/,
 * the flags of `kjournal serve --help` and `kjournal agent --help` (the built CLI), the server's
 * routes and the paths it answers without credentials (src/api/http/auth-gate.ts), the agent's
 * metrics server's paths, and the image (deploy/base/kustomization.yaml, built by the Dockerfile).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { type Obj, ROOT } from './kustomize.js';

const SRC = join(ROOT, 'src');

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}
export const sources = new Map(sourceFiles(SRC).map((f) => [relative(ROOT, f), readFileSync(f, 'utf8')]));

/**
 * Metric names registered in src/: `name: 'kjournal_…'`, the pipeline's `counter(registry,
 * 'kjournal_…'` helpers, exported name constants, and names built from a prefix constant
 * (`const p = 'kjournal_agent_'` … `name: \`${p}buffer_bytes\``, src/agent/metrics.ts).
 */
function metricNames(): Set<string> {
  const out = new Set<string>();
  const q = `['"\`]`;
  const direct = [
    new RegExp(`name:\\s*${q}(kjournal_[a-z0-9_]+)${q}`, 'g'),
    new RegExp(`(?:counter|gauge|histogram)\\(\\s*\\w+,\\s*${q}(kjournal_[a-z0-9_]+)${q}`, 'g'),
    new RegExp(`export const [A-Z_]+ = ${q}(kjournal_[a-z0-9_]+)${q}`, 'g'),
  ];
  for (const text of sources.values()) {
    for (const re of direct) for (const m of text.matchAll(re)) out.add(m[1]!);
    for (const p of text.matchAll(new RegExp(`const (\\w+) = ${q}(kjournal_[a-z0-9_]*_)${q}`, 'g')))
      for (const m of text.matchAll(new RegExp(`name:\\s*\`\\$\\{${p[1]}\\}([a-z0-9_]+)\``, 'g')))
        out.add(p[2]! + m[1]!);
  }
  return out;
}
export const METRICS = metricNames();

const helpFlags = new Map<string, Set<string>>();
/** The flags `kjournal <command> --help` lists (the built CLI). */
export function flagsOf(command: string): Set<string> {
  let known = helpFlags.get(command);
  if (!known) {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), command, '--help'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `kjournal ${command} --help: ${r.stderr}`);
    known = new Set(r.stdout.match(/--[a-z][a-z0-9-]*/g) ?? []);
    assert.ok(known.size > 10, `kjournal ${command} --help lists its flags`);
    helpFlags.set(command, known);
  }
  return known;
}

/** The paths auth-gate.ts answers without credentials (the kubelet probes anonymously). */
export const OPEN_PATHS = (() => {
  const gate = sources.get('src/api/http/auth-gate.ts') ?? '';
  const m = /const OPEN = new Set\(\[([^\]]*)\]\)/.exec(gate);
  assert.ok(m, 'the OPEN set of auth-gate.ts');
  return new Set([...m[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!));
})();

/** Whether the server registers a GET route for `path` (router `.add([...], '/p'` or kube's `get('/p'`). */
export function serverRoute(path: string): boolean {
  const lit = path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const re = new RegExp(`(?:\\bget|\\.add)\\(\\s*(?:\\[[^\\]]*\\],\\s*)?'${lit}'`);
  return [...sources].some(([f, text]) => /^src\/(api|server)\//.test(f) && re.test(text));
}
/** Whether the agent's metrics server answers `path` (src/agent/metrics.ts). */
export const agentRoute = (path: string): boolean =>
  (sources.get('src/agent/metrics.ts') ?? '').includes(`path === '${path}'`);

/** The image: name and tag from base/kustomization.yaml's `images:`, the name also in the Dockerfile. */
export const IMAGE = (() => {
  const base = parse(readFileSync(join(ROOT, 'deploy', 'base', 'kustomization.yaml'), 'utf8')) as Obj;
  const [entry] = base.images as { name: string; newTag: string; newName?: string }[];
  assert.ok(entry, 'base/kustomization.yaml pins the image');
  const name = entry.newName ?? entry.name;
  assert.ok(readFileSync(join(ROOT, 'Dockerfile'), 'utf8').includes(name), `the Dockerfile builds ${name}`);
  return `${name}:${entry.newTag}`;
})();

/** The metric names an expression reads (kjournal's own). */
export function exprMetrics(expr: string): string[] {
  return [...expr.matchAll(/\bkjournal_[a-z0-9_]+/g)].map((m) => m[0]);
}
export const metricExists = (name: string): boolean =>
  METRICS.has(name) || METRICS.has(name.replace(/_(bucket|sum|count)$/, ''));
