/**
 * The Dockerfile, checked without a Docker daemon (none runs on the development machines or in CI,
 * and the base image cannot be pulled there): dockerfile-utils' linter (hadolint is not packaged in
 * Debian 12), every COPY source in the build context after .dockerignore, a build from exactly the
 * files the build stage copies, the runtime stage's COPY --from sources among that build's outputs,
 * the entrypoint, every apt package in Debian's lists, journalctl's libraries, the Node and npm
 * versions, `npm ci`, the user, data directory and port against deploy/, and the README's
 * `docker run` example run with a local `kjournal serve` standing in for the container.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { parse } from 'yaml';
import { exportEntry, JOURNAL_REMOTE, writeJournal } from '../sources/journal-helpers.js';

// dist/test/deploy/ → the repository root.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TEXT = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  engines: { node: string };
  scripts: Record<string, string>;
  allowScripts: Record<string, boolean>;
};

// ---- a small Dockerfile reader: instructions with continuations joined, comments dropped --------

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}
interface Stage {
  readonly image: string;
  readonly name?: string;
  readonly body: Instruction[];
}

function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const t = raw.trim();
    // Docker drops comment lines, inside a continuation too.
    if (t.startsWith('#')) return;
    if (buf === '' && t === '') return;
    if (buf === '') start = i + 1;
    if (t.endsWith('\\')) {
      buf += `${t.slice(0, -1)} `;
      return;
    }
    buf += t;
    const m = /^(\S+)\s*(.*)$/s.exec(buf)!;
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
    buf = '';
  });
  return out;
}

function stages(text: string): Stage[] {
  const out: { image: string; name?: string; body: Instruction[] }[] = [];
  for (const ins of instructions(text)) {
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.args.split(/\s+/);
      out.push({ image: image!, ...(as?.toUpperCase() === 'AS' ? { name } : {}), body: [] });
    } else if (ins.keyword !== 'ARG' || out.length > 0) {
      out.at(-1)!.body.push(ins);
    }
  }
  return out;
}

interface Copy {
  readonly from?: string;
  readonly sources: string[];
  readonly dest: string;
}

function copies(stage: Stage): Copy[] {
  return stage.body
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const flags = words.filter((w) => w.startsWith('--'));
      const rest = words.filter((w) => !w.startsWith('--'));
      const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
      return { ...(from ? { from } : {}), sources: rest.slice(0, -1), dest: rest.at(-1)! };
    });
}

function one(stage: Stage, keyword: string): Instruction[] {
  return stage.body.filter((i) => i.keyword === keyword);
}

/** `ENV K=V` (one or several pairs). */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of one(stage, 'ENV')) {
    for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  }
  return env;
}

/** .dockerignore as Docker reads it: patterns from the context root, `*` within one path segment. */
function ignored(rel: string): boolean {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  let out = false;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    const body = (negate ? p.slice(1) : p).replace(/^\/+|\/+$/g, '');
    const re = new RegExp(
      `^${body
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*')}(/.*)?$`,
    );
    if (re.test(rel)) out = !negate;
  }
  return out;
}

/** Every file under `dir`, relative to ROOT. */
function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else out.push(relative(ROOT, p));
  }
  return out;
}

const STAGES = stages(TEXT);
const BUILD = STAGES.find((s) => s.name === 'build')!;
const RUNTIME = STAGES.at(-1)!;
const WORKDIR = one(RUNTIME, 'WORKDIR').at(-1)!.args;
const ENTRYPOINT = JSON.parse(one(RUNTIME, 'ENTRYPOINT').at(-1)!.args) as string[];
const CMD = JSON.parse(one(RUNTIME, 'CMD').at(-1)!.args) as string[];
const RUNTIME_ENV = envOf(RUNTIME);
const EXPOSED = one(RUNTIME, 'EXPOSE').flatMap((i) =>
  i.args.split(/\s+/).map((p) => Number(p.split('/')[0])),
);

// The server of deploy/: its port, user, data mount and --listen.
interface Container {
  name: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
const STATEFULSET = parse(readFileSync(join(ROOT, 'deploy/base/statefulset.yaml'), 'utf8')) as {
  spec: {
    template: {
      spec: { securityContext: { runAsUser: number; runAsGroup: number }; containers: Container[] };
    };
  };
};
const SERVER = STATEFULSET.spec.template.spec.containers.find((c) => c.name === 'kjournal')!;
const IMAGE = `ghcr.io/kjournal/kjournal:${PKG.version}`;

describe('Dockerfile', () => {
  test('passes the Dockerfile linter (dockerfile-utils) with no diagnostic', () => {
    const found = validate(TEXT).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    assert.deepEqual(found, []);
    // The linter does find faults: a guard against a validate() that accepts anything.
    assert.ok(validate('FROM x\nRUNN true\nEXPOSE port\n').length >= 2);
  });

  test("every stage is node:<engines' major>-<this machine's Debian>-slim", () => {
    const major = /^>=\s*(\d+)/.exec(PKG.engines.node)?.[1];
    assert.ok(major, PKG.engines.node);
    assert.equal(process.versions.node.split('.')[0], major, 'the machines run the engines major');
    const codename = /^VERSION_CODENAME=(\w+)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    assert.ok(codename);
    assert.equal(STAGES.length, 2);
    for (const s of STAGES) assert.equal(s.image, `node:${major}-${codename}-slim`);
  });

  test('the build installs the lock file with npm ci under npm 11, runs install scripts, drops dev deps', () => {
    const runs = one(BUILD, 'RUN').map((i) => i.args);
    const install = runs.find((r) => /\bnpm ci\b/.test(r));
    assert.ok(install, 'npm ci');
    assert.match(install, /npm ci\b[^&]*&&\s*npm prune --omit=dev\b/);
    // No other install of the project's dependencies, and install scripts on: re2 builds in one.
    for (const r of runs) {
      assert.doesNotMatch(r, /--ignore-scripts/);
      assert.doesNotMatch(r.replace(/npm install -g "?npm@\S+/g, ''), /npm (install|i)\b/);
    }
    assert.equal(PKG.allowScripts.re2, true);
    // npm 11 reads "allowScripts"; the ARG is the version the machines run.
    const arg = /^NPM_VERSION=(\S+)$/.exec(
      one(BUILD, 'ARG').find((i) => i.args.startsWith('NPM_VERSION='))!.args,
    );
    const npm = spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(arg?.[1]?.split('.')[0], npm.split('.')[0]);
    assert.ok(Number(npm.split('.')[0]) >= 11);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's ARG, as written there
    assert.ok(runs.some((r) => r.includes('npm install -g "npm@${NPM_VERSION}"')));
  });

  test("every apt package it names is in Debian's package lists", () => {
    const names = new Set<string>();
    for (const s of STAGES) {
      for (const r of one(s, 'RUN')) {
        for (const m of r.args.matchAll(/apt-get (?:install|download)((?:\s+(?!&&)\S+)+)/g)) {
          // `systemd=$(dpkg-query ...)`: the version is computed; the name is before `=`.
          for (const w of m[1]!
            .replace(/\$\([^)]*\)/g, '')
            .trim()
            .split(/\s+/)) {
            if (!w.startsWith('-')) names.add(w.replace(/^"|"$/g, '').replace(/=.*$/, ''));
          }
        }
      }
    }
    assert.deepEqual([...names].sort(), ['g++', 'libsystemd-shared', 'make', 'python3', 'systemd']);
    // Empty lists (no apt-get update yet) would make every look-up fail the same way: say so.
    const libc = spawnSync('apt-cache', ['show', '--no-all-versions', 'libc6'], { encoding: 'utf8' });
    assert.equal(libc.status, 0, "apt-cache knows no libc6: run 'apt-get update' first");
    for (const n of names) {
      const r = spawnSync('apt-cache', ['show', '--no-all-versions', n], { encoding: 'utf8' });
      assert.equal(r.status, 0, `apt-cache show ${n}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Package: ${n.replace(/\+/g, '\\+')}$`, 'm'));
    }
  });

  test('journalctl: libsystemd-shared brings every library it links, and it reads a journal directory', async () => {
    // The runtime stage installs libsystemd-shared and the one binary of the same version's systemd
    // package as /usr/bin/journalctl, where the agent's journal source finds it on the PATH.
    const run = one(RUNTIME, 'RUN').find((i) => i.args.includes('journalctl'))!.args;
    assert.match(run, /apt-get install [^&]*\blibsystemd-shared\b/);
    assert.match(
      run,
      /apt-get download -qq "systemd=\$\(dpkg-query -W -f='\$\{Version\}' libsystemd-shared\)"/,
    );
    assert.match(run, /install -m 0755 "\$\(find \. -name journalctl -type f\)" \/usr\/bin\/journalctl/);
    assert.match(run, /&& journalctl --version$/);
    const owner = (path: string): string =>
      spawnSync('dpkg', ['-S', path], { encoding: 'utf8' }).stdout.split(':')[0]!.trim();
    const version = (pkg: string): string =>
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format
      spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).stdout;
    // Debian 12 ships it as /bin/journalctl (/bin is /usr/bin on a merged-/usr system).
    assert.equal(owner('/bin/journalctl'), 'systemd');
    assert.equal(version('systemd'), version('libsystemd-shared'));
    // What `apt-get install --no-install-recommends libsystemd-shared` brings: its Depends, recursively.
    const closure = spawnSync(
      'apt-cache',
      ['depends', '--recurse', '--installed', '--no-recommends', '--no-suggests', '--no-conflicts'].concat([
        '--no-breaks',
        '--no-replaces',
        '--no-enhances',
        'libsystemd-shared',
      ]),
      { encoding: 'utf8' },
    ).stdout;
    const allowed = new Set(
      closure
        .split('\n')
        .filter((l) => /^[a-z0-9]/.test(l))
        .map((l) => l.replace(/:\w+$/, '')),
    );
    assert.ok(allowed.has('libsystemd-shared') && allowed.has('libc6'), closure);
    const ldd = spawnSync('ldd', ['/usr/bin/journalctl'], { encoding: 'utf8' }).stdout;
    const libs = [...ldd.matchAll(/=> (\/\S+)/g)].map((m) => m[1]!);
    assert.ok(
      libs.some((l) => /libsystemd-shared-\d+\.so$/.test(l)),
      ldd,
    );
    for (const lib of libs) {
      const real = spawnSync('readlink', ['-f', lib], { encoding: 'utf8' }).stdout.trim();
      const pkg = owner(lib) || owner(real);
      assert.ok(allowed.has(pkg), `${lib} is in ${pkg}, not brought by libsystemd-shared`);
    }
    // And it reads what the agent's --journal source reads: a journal directory, in export format.
    assert.ok(existsSync(JOURNAL_REMOTE), 'systemd-journal-remote (.ci/run installs it)');
    const dir = mkdtempSync(join(tmpdir(), 'kj-image-journal-'));
    try {
      await writeJournal(dir, [exportEntry({ MESSAGE: 'from the image', _SYSTEMD_UNIT: 'kubelet.service' })]);
      const r = spawnSync('/usr/bin/journalctl', ['--directory', dir, '-o', 'export', '--no-pager'], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^MESSAGE=from the image$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the runtime needs no dev dependency: every package dist/src imports is a dependency', () => {
    // npm prune --omit=dev leaves only "dependencies": a dev one imported at run time would fail
    // only in the image. (Checked once by hand, too: serve from an `npm ci` + `npm prune --omit=dev`
    // tree stored and queried a line.)
    const deps = new Set(Object.keys((PKG as unknown as { dependencies: object }).dependencies));
    const imported = new Set<string>();
    for (const f of files(join(ROOT, 'dist/src')).filter((p) => p.endsWith('.js'))) {
      const js = readFileSync(join(ROOT, f), 'utf8');
      for (const m of js.matchAll(
        /(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)(['"])([@a-z0-9][^'"\s,;()]*)\1/gm,
      )) {
        const spec = m[2]!;
        if (spec.startsWith('node:')) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    assert.ok(imported.has('@duckdb/node-api') && imported.has('re2'), [...imported].join(' '));
    for (const p of imported) assert.ok(deps.has(p), `dist/src imports ${p}, which is not in "dependencies"`);
  });

  test("user, data directory and port are deploy/'s", () => {
    const user = one(RUNTIME, 'USER').at(-1)!.args;
    const sc = STATEFULSET.spec.template.spec.securityContext;
    assert.equal(user, `${sc.runAsUser}:${sc.runAsGroup}`);
    assert.notEqual(sc.runAsUser, 0);
    const data = SERVER.volumeMounts!.find((v) => v.name === 'data')!.mountPath;
    assert.equal(RUNTIME_ENV.KJOURNAL_DATA, data);
    assert.ok(SERVER.args!.includes(`--data=${data}`));
    assert.ok(
      one(RUNTIME, 'RUN').some((i) => i.args === `mkdir -p ${data} && chown node:node ${data}`),
      'the image creates the data directory for uid 1000',
    );
    const port = SERVER.ports!.find((p) => p.name === 'https')!.containerPort;
    assert.deepEqual(EXPOSED, [port]);
    assert.ok(SERVER.args!.includes(`--listen=0.0.0.0:${port}`));
    assert.equal(RUNTIME_ENV.NODE_ENV, 'production');
  });

  describe('built from exactly what the build stage copies', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'kj-image-'));
    const ctx = join(tmp, 'build'); // the build stage's WORKDIR /app
    const image = join(tmp, 'image'); // the runtime stage's filesystem, as far as /app goes
    after(() => rmSync(tmp, { recursive: true, force: true }));

    before(() => {
      assert.equal(one(BUILD, 'WORKDIR').at(-1)!.args, '/app');
      for (const c of copies(BUILD)) {
        assert.equal(c.from, undefined);
        for (const src of c.sources) {
          const dest =
            c.sources.length > 1 || c.dest.endsWith('/') ? join(ctx, c.dest, src) : join(ctx, c.dest);
          const abs = join(ROOT, src);
          const list = statSync(abs).isDirectory() ? files(abs) : [src];
          for (const f of list) {
            if (ignored(f)) continue;
            mkdirSync(dirname(join(dest, relative(src, f))), { recursive: true });
            cpSync(join(ROOT, f), f === src ? dest : join(dest, relative(src, f)));
          }
        }
      }
      // `npm ci` is not repeated here (it needs the registry and rebuilds re2): the checkout's
      // node_modules stands in for it, then `prepare` runs as npm ci runs it.
      symlinkSync(join(ROOT, 'node_modules'), join(ctx, 'node_modules'));
      const r = spawnSync('npm', ['run', 'prepare'], { cwd: ctx, encoding: 'utf8', timeout: 300_000 });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      // The runtime stage's COPY --from=build lines, into its /app.
      for (const c of copies(RUNTIME)) {
        assert.equal(c.from, 'build');
        for (const src of c.sources) {
          assert.ok(src.startsWith('/app/'), src);
          const from = join(ctx, src.slice('/app/'.length));
          const dest = join(image, c.dest.startsWith('/') ? c.dest : join(WORKDIR, c.dest));
          const to = c.dest.endsWith('/') ? join(dest, src.split('/').at(-1)!) : dest;
          mkdirSync(dirname(to), { recursive: true });
          cpSync(from, to, { recursive: true, verbatimSymlinks: true });
        }
      }
    });

    test('every COPY source is in the build context (.dockerignore applied) and nothing of src/ or web/ is left out', () => {
      for (const c of copies(BUILD)) {
        for (const src of c.sources) {
          assert.ok(existsSync(join(ROOT, src)), src);
          assert.equal(ignored(src), false, `${src} is excluded by .dockerignore`);
        }
      }
      assert.ok(ignored('node_modules') && ignored('dist') && ignored('test'), '.dockerignore');
      assert.ok(existsSync(join(ctx, 'src/cli/main.ts')) && existsSync(join(ctx, 'web/build.mjs')));
    });

    test("the runtime stage's copies are the build's outputs, and the entrypoint is the package's bin", () => {
      for (const p of ['package.json', 'node_modules', 'dist/src/cli/main.js', 'dist/web/index.html']) {
        assert.ok(existsSync(join(image, WORKDIR, p)), p);
      }
      assert.equal(ENTRYPOINT[0], 'node');
      assert.equal(ENTRYPOINT[1], join(WORKDIR, PKG.bin.kjournal!));
      // The default command: the help, from the copied tree.
      const r = spawnSync(process.execPath, [join(image, ENTRYPOINT[1]!), ...CMD], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Usage: kjournal/m);
      const help = spawnSync(process.execPath, [join(image, ENTRYPOINT[1]!), 'serve', '--help'], {
        encoding: 'utf8',
      });
      assert.match(
        help.stdout.replace(/\s+/g, ' '),
        /--data <dir> data directory \(default: "\.\/data", env: KJOURNAL_DATA\)/,
      );
    });

    test("the README's `docker run` example works, with the built tree standing in for the container", async () => {
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const section = readme.slice(readme.indexOf('\n## In a container\n'));
      const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
      assert.ok(block, 'a sh block under "In a container"');
      const port = EXPOSED[0]!;
      const work = join(tmp, 'user');
      mkdirSync(work);
      // The block runs as written in bash; `docker` records its arguments (and `run` waits for the
      // stand-in server), `curl` is pointed at the stand-in's port.
      const script = `set -euo pipefail
docker() {
  printf '%s\\0' "$@" > "$KJ_T/docker-$1.args"
  if [ "$1" = run ]; then
    for _ in $(seq 600); do [ -s "$KJ_T/port" ] && return 0; sleep 0.1; done
    echo "the stand-in server did not start" >&2; return 1
  fi
}
curl() { command curl --connect-to "localhost:${port}:127.0.0.1:$(cat "$KJ_T/port")" "$@"; }
${block}`;
      const shell = spawn('bash', ['-c', script], { cwd: work, env: { ...process.env, KJ_T: tmp } });
      let out = '';
      let err = '';
      shell.stdout.on('data', (d: Buffer) => {
        out += d;
      });
      shell.stderr.on('data', (d: Buffer) => {
        err += d;
      });
      const shellDone = new Promise<number | null>((resolve) => shell.on('close', resolve));
      const runArgs = join(tmp, 'docker-run.args');
      for (let i = 0; i < 300 && !existsSync(runArgs); i++) {
        if (shell.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(existsSync(runArgs), `the block never reached docker run: ${err}`);
      const build = readFileSync(join(tmp, 'docker-build.args'), 'utf8').split('\0').slice(0, -1);
      assert.deepEqual(build, ['build', '-t', IMAGE, '.']);

      // docker run's options: -d, --name N, -p HOST:CONTAINER, -v SRC:DEST[:ro], -e K=V.
      const args = readFileSync(runArgs, 'utf8').split('\0').slice(0, -1);
      assert.equal(args.shift(), 'run');
      const mounts: { host: string; path: string; ro: boolean }[] = [];
      const env: Record<string, string> = { ...RUNTIME_ENV };
      const published: string[] = [];
      while (args[0]?.startsWith('-')) {
        const opt = args.shift()!;
        if (opt === '-d' || opt === '--rm') continue;
        const value = args.shift()!;
        if (opt === '--name') continue;
        if (opt === '-p') published.push(value);
        else if (opt === '-e') env[value.split('=')[0]!] = value.slice(value.indexOf('=') + 1);
        else if (opt === '-v') {
          const [src, path, mode] = value.split(':');
          // A named volume starts as the image's directory: empty, owned by uid 1000.
          const host = src!.startsWith('/') ? src! : join(tmp, 'volumes', src!);
          mkdirSync(host, { recursive: true });
          mounts.push({ host, path: path!, ro: mode === 'ro' });
        } else assert.fail(`an option the stand-in does not know: ${opt}`);
      }
      assert.equal(args.shift(), IMAGE);
      assert.deepEqual(published, [`${port}:${port}`]);
      const listen = args.indexOf('--listen');
      assert.equal(args[listen + 1], `0.0.0.0:${port}`);
      args[listen + 1] = '0.0.0.0:0';
      // Paths inside the container → the mounts' folders on this machine.
      const local = (v: string): string => {
        const m = mounts.find((x) => v === x.path || v.startsWith(`${x.path}/`));
        return m ? m.host + v.slice(m.path.length) : v;
      };
      const data = mounts.find((m) => m.path === RUNTIME_ENV.KJOURNAL_DATA);
      assert.ok(data && !data.ro, 'a volume on the data directory');
      for (const m of mounts.filter((x) => x.ro)) {
        // The container runs as uid 1000, not the files' owner: they must be readable by others.
        for (const f of files(m.host).map((r) => join(ROOT, r))) {
          assert.ok(statSync(f).mode & 0o004, `${f} is not readable by others`);
        }
      }
      const app = join(image, WORKDIR);
      const child: ChildProcess = spawn(process.execPath, [join(image, ENTRYPOINT[1]!), ...args.map(local)], {
        cwd: app,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, local(v)])),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      try {
        let serr = '';
        const url = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`server did not start: ${serr}`)), 30_000);
          child.stderr!.on('data', (d: Buffer) => {
            serr += d;
            const m = /serving on (https:\/\/\S+)/.exec(serr);
            if (m) {
              clearTimeout(timer);
              resolve(m[1]!);
            }
          });
          child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`server exited with ${code}: ${serr}`));
          });
        });
        assert.match(serr, new RegExp(`data in ${data.host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`));
        assert.match(serr, /authentication: token \(1 user: admin\)/);
        writeFileSync(join(tmp, 'port'), new URL(url).port);
        const code = await shellDone;
        assert.equal(code, 0, `the README block failed: ${err}`);
        // curl printed the labels answer: the token was accepted over TLS with the generated CA.
        assert.match(out, /"status":\s*"success"/);
        // Without the token: 401.
        const ca = readFileSync(local('/etc/kjournal/tls.crt'), 'utf8');
        const status = await new Promise<number>((resolve, reject) => {
          request(`https://127.0.0.1:${new URL(url).port}/loki/api/v1/labels`, { ca }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
            .on('error', reject)
            .end();
        });
        assert.equal(status, 401);
        // The data went to the volume (KJOURNAL_DATA), not to ./data under WORKDIR.
        assert.ok(existsSync(join(data.host, 'LOCK')), 'the data directory is locked by serve');
        assert.equal(existsSync(join(app, 'data')), false);
      } finally {
        if (child.exitCode === null) child.kill('SIGTERM');
        if (shell.exitCode === null) shell.kill('SIGTERM');
        await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
      }
    });
  });
});
