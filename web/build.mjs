/**
 * @module Builds the web page (issue 18) into dist/web: esbuild bundles web/src/main.tsx (Preact,
 * uPlot) into one minified script and one stylesheet with content hashes in their names, and writes
 * index.html naming them (api/ui/static.ts serves the page no-cache and the hashed assets immutable).
 * Prints the bundle's size, raw and gzipped: the budget is 250 KB gzipped.
 * Run by `npm run build:web`, by `prepare` (npm install) and by `npm test`.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'web');
await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'assets'), { recursive: true });
const result = await build({
  entryPoints: [join(here, 'src', 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((n) => n.endsWith('.js'));
const css = outputs.find((n) => n.endsWith('.css'));
if (!js || !css) throw new Error(`web build: expected a script and a stylesheet, got ${outputs.join(', ')}`);
const template = await readFile(join(here, 'index.html'), 'utf8');
await writeFile(
  join(out, 'index.html'),
  template.replace('%SCRIPT%', `/ui/assets/${js}`).replace('%STYLE%', `/ui/assets/${css}`),
);
let raw = 0;
let gz = 0;
for (const name of [js, css]) {
  const body = await readFile(join(out, 'assets', name));
  raw += body.length;
  gz += gzipSync(body).length;
}
process.stdout.write(
  `web: dist/web built: ${js}, ${css}: ${(raw / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped\n`,
);
