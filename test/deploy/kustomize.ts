/**
 * @module deploy/'s kustomizations for the tests of test/deploy/: a scratch copy of deploy/ (with
 * stand-in certificate files for overlays/own-certs, so that nothing is written into the tree),
 * `kubectl kustomize` on it, a kustomization made of resources and components, and what the
 * directories hold (every Kustomization and Component, found by listing them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

// dist/test/deploy/ → the repository root.
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KUBECTL = process.env.KUBECTL ?? 'kubectl';

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read as plain JSON.
export type Obj = any;

// ---- a scratch copy of deploy/ (own-certs needs certificate files, never written into the tree) ---

const scratch = mkdtempSync(join(tmpdir(), 'kj-deploy-all-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
export const DEPLOY = join(scratch, 'deploy');
cpSync(join(ROOT, 'deploy'), DEPLOY, { recursive: true });
for (const f of ['ca.crt', 'tls.crt'])
  writeFileSync(
    join(DEPLOY, 'overlays', 'own-certs', f),
    '-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n',
  );
writeFileSync(
  join(DEPLOY, 'overlays', 'own-certs', 'tls.key'),
  '-----BEGIN PRIVATE KEY-----\nZmFrZQ==\n-----END PRIVATE KEY-----\n',
);
export const README = readFileSync(join(ROOT, 'deploy', 'README.md'), 'utf8');

export function render(dir: string): Obj[] {
  const r = spawnSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.error, undefined, `${KUBECTL} kustomize: ${r.error?.message}`);
  assert.equal(r.status, 0, `kubectl kustomize ${relative(scratch, dir)}:\n${r.stderr}`);
  const objs = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj)
    .filter((o) => o !== null);
  assert.ok(objs.length > 0, `${relative(scratch, dir)} rendered nothing`);
  return objs;
}

let overlayCount = 0;
/** Renders a kustomization made of `resources` and `components` (paths relative to deploy/). */
export function renderWith(resources: string[], components: string[], extra = ''): Obj[] {
  const dir = join(scratch, `overlay-${overlayCount++}`);
  mkdirSync(dir);
  const rel = (p: string) => relative(dir, join(DEPLOY, p));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${resources.map(rel).join(', ')}]`,
      `components: [${components.map(rel).join(', ')}]`,
      extra,
    ].join('\n'),
  );
  return render(dir);
}

// ---- what the directories hold ------------------------------------------------------------------

export interface Found {
  /** Relative to deploy/. */
  readonly dir: string;
  readonly kind: 'Kustomization' | 'Component';
  readonly doc: Obj;
}

function walk(dir: string, out: Found[] = []): Found[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) walk(join(dir, e.name), out);
    else if (e.name === 'kustomization.yaml') {
      const doc = parse(readFileSync(join(dir, e.name), 'utf8')) as Obj;
      out.push({ dir: relative(DEPLOY, dir) || '.', kind: doc.kind ?? 'Kustomization', doc });
    }
  }
  return out;
}
const found = walk(DEPLOY);
export const kustomizations = found.filter((f) => f.kind === 'Kustomization');
/** A component another *component* lists is a step of it (components/clickhouse/workload), not applied alone. */
export function isStep(f: Found): boolean {
  return found.some(
    (g) =>
      g.kind === 'Component' &&
      ((g.doc.components ?? []) as string[]).some((c) => relative(DEPLOY, join(DEPLOY, g.dir, c)) === f.dir),
  );
}
export const components = found.filter((f) => f.kind === 'Component' && !isStep(f));
/** The base a component is made for: `agent-*` components go into deploy/agent, the rest into deploy/. */
export const baseOf = (component: string): string =>
  basename(component).startsWith('agent-') ? 'agent' : '.';
