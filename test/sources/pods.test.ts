import assert from 'node:assert/strict';
import {
  appendFile,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createPodLogsSource } from '../../src/sources/pods/index.js';
import { runSource, sleep } from './file-source-helpers.js';
import { sourceContract } from './source-contract.js';

const UID = '0b5b1d9e-7c55-4a5e-8c1e-3f2b6f0c9d11';
const containerDir = (root: string, ns = 'shop', pod = 'web-1', container = 'app') =>
  join(root, `${ns}_${pod}_${UID}`, container);
const cri = (line: string, stream = 'stdout', tag = 'F', ts = '2026-11-23T10:00:00.123456789Z') =>
  `${ts} ${stream} ${tag} ${line}\n`;

/**
 * The kubelet's rotation: `f` renamed to `name`, a new empty `f`; the file rotated before it
 * (`rotated` holds it) gzipped to `.gz.tmp`, renamed to `.gz`, the plain one removed.
 */
async function rotateCri(f: string, name: string, rotated: string[]): Promise<void> {
  await rename(f, name);
  await writeFile(f, '');
  rotated.push(name);
  if (rotated.length > 1) {
    const old = rotated.shift()!;
    await writeFile(`${old}.gz.tmp`, gzipSync(await readFile(old)));
    await rename(`${old}.gz.tmp`, `${old}.gz`);
    await unlink(old);
  }
}

const source = (dir: string, extra: Partial<Parameters<typeof createPodLogsSource>[0]> = {}) =>
  createPodLogsSource({ dir, node: 'node-1', tailer: { pollMs: 30 }, ...extra });

sourceContract('pods', {
  resumable: true,
  async create(dir) {
    return source(dir);
  },
  async produce(dir, lines) {
    const d = containerDir(dir);
    await mkdir(d, { recursive: true });
    await appendFile(join(d, '0.log'), lines.map((l) => cri(l)).join(''));
  },
  async produceBad(dir) {
    await appendFile(join(containerDir(dir), '0.log'), 'this is not a CRI line\n');
  },
});

describe('pods source', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kj-pods-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('labels and attributes from the path, the stream and the node; pod labels from labelsFor', async () => {
    const d = containerDir(dir, 'kube-system', 'coredns-abc', 'coredns');
    await mkdir(d, { recursive: true });
    await writeFile(join(d, '3.log'), cri('out') + cri('err', 'stderr'));
    const asked: string[] = [];
    const r = runSource(
      source(dir, {
        labelsFor: (ns, pod) => {
          asked.push(`${ns}/${pod}`);
          return { 'k8s-app': 'kube-dns' };
        },
      }),
    );
    await r.waitFor(2);
    await r.stop();
    const [out, err] = r.records();
    assert.deepEqual(out?.labels, {
      k8s_app: 'kube-dns',
      kind: 'containerlog',
      class: 'infrastructure',
      namespace: 'kube-system',
      pod: 'coredns-abc',
      container: 'coredns',
      stream: 'stdout',
      node: 'node-1',
    });
    assert.equal(err?.labels.stream, 'stderr');
    assert.deepEqual(out?.attributes, { pod_uid: UID, restart_count: '3' });
    assert.deepEqual([...new Set(asked)], ['kube-system/coredns-abc']);
  });

  test('pod labels the informer learns later apply to the lines read after', async () => {
    const d = containerDir(dir);
    await mkdir(d, { recursive: true });
    await writeFile(join(d, '0.log'), cri('early'));
    let known: Record<string, string> | undefined;
    const r = runSource(source(dir, { labelsFor: () => known }));
    await r.waitFor(1);
    known = { app: 'web' };
    await appendFile(join(d, '0.log'), cri('late'));
    await r.waitFor(2);
    await r.stop();
    const [early, late] = r.records();
    assert.equal(early?.labels.app, undefined);
    assert.equal(late?.labels.app, 'web');
  });

  test('CRI timestamps with 0 to 9 fraction digits and any offset', async () => {
    const d = containerDir(dir);
    await mkdir(d, { recursive: true });
    const base = BigInt(Date.parse('2026-11-23T10:00:00Z')) * 1_000_000n;
    const cases: [string, bigint][] = [
      ['2026-11-23T10:00:00Z', base],
      ['2026-11-23T10:00:00.1Z', base + 100_000_000n],
      ['2026-11-23T10:00:00.123456Z', base + 123_456_000n],
      ['2026-11-23T10:00:00.123456789Z', base + 123_456_789n],
      ['2026-11-23T12:00:00.5+02:00', base + 500_000_000n],
      ['2026-11-23T04:30:00.000000001-05:30', base + 1n],
    ];
    await writeFile(join(d, '0.log'), cases.map(([ts], i) => cri(`t${i}`, 'stdout', 'F', ts)).join(''));
    const r = runSource(source(dir));
    await r.waitFor(cases.length);
    await r.stop();
    assert.deepEqual(
      r.records().map((x) => x.timestamp),
      cases.map(([, ns]) => ns),
    );
    assert.equal(r.problems.length, 0);
  });

  test('P pieces are joined per stream until F, stdout and stderr interleaved; positions wait for F', async () => {
    const d = containerDir(dir);
    await mkdir(d, { recursive: true });
    const f = join(d, '0.log');
    await writeFile(
      f,
      cri('out-a ', 'stdout', 'P', '2026-11-23T10:00:01Z') +
        cri('err-a ', 'stderr', 'P', '2026-11-23T10:00:02Z') +
        cri('out-b ', 'stdout', 'P') +
        cri('err-b', 'stderr', 'F') +
        cri('out-c', 'stdout', 'F') +
        cri('whole', 'stdout', 'F') +
        cri('held ', 'stdout', 'P'),
    );
    const r = runSource(source(dir));
    await r.waitFor(3);
    await sleep(150);
    await r.stop();
    assert.deepEqual(r.bodies(), ['err-a err-b', 'out-a out-b out-c', 'whole']);
    const [errRec, outRec] = r.records();
    assert.equal(errRec?.labels.stream, 'stderr');
    assert.equal(errRec?.timestamp, BigInt(Date.parse('2026-11-23T10:00:02Z')) * 1_000_000n);
    assert.equal(outRec?.timestamp, BigInt(Date.parse('2026-11-23T10:00:01Z')) * 1_000_000n);
    // The saved offset stops before the held P piece: a restart reads it again and joins it.
    const saved = r.positions();
    const [pos] = Object.values(saved) as { offset: number }[];
    const content = await readFile(f, 'utf8');
    assert.equal(pos?.offset, content.length - cri('held ', 'stdout', 'P').length);
    await appendFile(f, cri('done', 'stdout', 'F'));
    const r2 = runSource(source(dir), saved);
    await r2.waitFor(1);
    await sleep(100);
    await r2.stop();
    assert.deepEqual(r2.bodies(), ['held done']);
  });

  test('docker json-file, split lines joined', async () => {
    const d = containerDir(dir);
    await mkdir(d, { recursive: true });
    const j = (log: string, stream: string) =>
      `${JSON.stringify({ log, stream, time: '2026-11-23T10:00:00.5Z' })}\n`;
    await writeFile(join(d, '0.log'), j('hello\n', 'stdout') + j('part ', 'stderr') + j('two\n', 'stderr'));
    const r = runSource(source(dir));
    await r.waitFor(2);
    await r.stop();
    assert.deepEqual(r.bodies(), ['hello', 'part two']);
    assert.deepEqual(
      r.records().map((x) => x.labels.stream),
      ['stdout', 'stderr'],
    );
  });

  test('docker json-file through the kubelet symlink into the docker directory, across docker rotation', async () => {
    // With docker (cri-dockerd) the kubelet links <pod dir>/<container>/<n>.log to
    // /var/lib/docker/containers/<id>/<id>-json.log (deploy/agent mounts both). Docker rotates by
    // renaming to <id>-json.log.1 and starting a new file; the link then names the new one.
    const docker = await mkdtemp(join(tmpdir(), 'kj-docker-'));
    try {
      const d = containerDir(dir);
      await mkdir(d, { recursive: true });
      const id = 'c0ffee';
      await mkdir(join(docker, id));
      const target = join(docker, id, `${id}-json.log`);
      const j = (log: string) =>
        `${JSON.stringify({ log: `${log}\n`, stream: 'stdout', time: '2026-11-23T10:00:00.5Z' })}\n`;
      await writeFile(target, j('one') + j('two'));
      await symlink(target, join(d, '0.log'));
      const r = runSource(source(dir));
      await r.waitFor(2);
      await appendFile(target, j('three'));
      await rename(target, `${target}.1`);
      await writeFile(target, j('four'));
      await r.waitFor(4);
      await sleep(150);
      await r.stop();
      assert.deepEqual(r.bodies(), ['one', 'two', 'three', 'four']);
      assert.equal(r.records()[0]?.labels.container, 'app', 'labels from the link, not the target');
    } finally {
      await rm(docker, { recursive: true, force: true });
    }
  });

  test('kubelet rotation at a steady rate (rename, new 0.log, later gzip): every line exactly once', async () => {
    const d = containerDir(dir);
    await mkdir(d, { recursive: true });
    const f = join(d, '0.log');
    const total = 3000;
    const perRotation = 250;
    const r = runSource(source(dir, { tailer: { pollMs: 20, batchLines: 200 } }));
    const rotated: string[] = [];
    let second = 0;
    for (let i = 0; i < total; i += 25) {
      let chunk = '';
      for (let j = i; j < i + 25; j++) chunk += cri(`line ${j}`, j % 3 === 0 ? 'stderr' : 'stdout');
      await appendFile(f, chunk);
      if ((i + 25) % perRotation === 0) {
        // The kubelet: rename the live file away, the runtime reopens a new one; the one before compressed.
        await rotateCri(f, `${f}.20261123-1000${String(second++).padStart(2, '0')}`, rotated);
      }
      await sleep(5);
    }
    await r.waitFor(total, 15_000);
    await sleep(300);
    await r.stop();
    const bodies = r.bodies();
    assert.equal(bodies.length, total, 'no line repeated');
    assert.deepEqual([...new Set(bodies)].length, total);
    const want = Array.from({ length: total }, (_, i) => `line ${i}`);
    assert.deepEqual([...bodies].sort(), [...want].sort());
    // Per stream, in order.
    const stdout = r
      .records()
      .filter((x) => x.labels.stream === 'stdout')
      .map((x) => x.body);
    assert.deepEqual(
      stdout,
      want.filter((_, i) => i % 3 !== 0),
    );
  });

  test('restart across a rotation: exactly the rest, from the renamed then gzipped file and the new one', async () => {
    const d = containerDir(dir);
    await mkdir(d, { recursive: true });
    const f = join(d, '0.log');
    await writeFile(f, Array.from({ length: 10 }, (_, i) => cri(`a${i}`)).join(''));
    const r1 = runSource(source(dir));
    await r1.waitFor(10);
    await r1.stop();
    const saved = r1.positions();
    // While the agent is down: more lines, rotation, compression, a new file.
    await appendFile(f, Array.from({ length: 5 }, (_, i) => cri(`b${i}`)).join(''));
    const old = `${f}.20261123-100000`;
    await rename(f, old);
    await writeFile(f, Array.from({ length: 5 }, (_, i) => cri(`c${i}`)).join(''));
    await writeFile(`${old}.gz`, gzipSync(await readFile(old)));
    await unlink(old);
    const r2 = runSource(source(dir), saved);
    await r2.waitFor(10);
    await sleep(200);
    await r2.stop();
    assert.deepEqual(r2.bodies(), [
      ...Array.from({ length: 5 }, (_, i) => `b${i}`),
      ...Array.from({ length: 5 }, (_, i) => `c${i}`),
    ]);
    // The old file's position is let go.
    assert.equal(Object.keys(r2.positions()).length, 2);
  });

  // Restarts at any moment (in the middle of a rename, a compression, a removal; during a read or a
  // flush) while a writer keeps writing, rotating and compressing: every line arrives exactly once.
  test('restarts during bursts of writing, rotation and compression: every line exactly once', async () => {
    let midRotation = 0;
    for (let iteration = 0; iteration < 4; iteration++) {
      const root = join(dir, `run-${iteration}`);
      midRotation += await stressRestarts(root, 1200, 1000 + iteration);
    }
    assert.ok(midRotation > 0, 'some restarts fell between a rename and the removal of a compressed file');
  });

  test('first start reads what the node holds (rotated .gz included) unless fromStart is false', async () => {
    const d = containerDir(dir);
    await mkdir(d, { recursive: true });
    await writeFile(join(d, '0.log.20261123-090000.gz'), gzipSync(cri('oldest')));
    await writeFile(join(d, '0.log.20261123-100000'), cri('older'));
    await writeFile(join(d, '0.log'), cri('now'));
    const r = runSource(source(dir));
    await r.waitFor(3);
    await r.stop();
    assert.deepEqual(r.bodies(), ['oldest', 'older', 'now']);

    const r2 = runSource(source(dir, { fromStart: false }));
    await sleep(100);
    await appendFile(join(d, '0.log'), cri('later'));
    await r2.waitFor(1);
    await sleep(100);
    await r2.stop();
    assert.deepEqual(r2.bodies(), ['later']);
  });
});

/**
 * A writer appends CRI lines to `0.log`, rotating every `perFile` lines the kubelet's way (rename to
 * `0.log.<time>`, a new empty `0.log`, the previous rotated file gzipped to `.gz.tmp`, renamed to
 * `.gz`, the plain one removed), while the source is stopped and restarted from its saved positions
 * every few milliseconds (a seeded random delay). What the stopped runs emitted is what the server
 * acknowledged: together, every line exactly once.
 */
async function stressRestarts(root: string, total: number, seed: number): Promise<number> {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const d = containerDir(root);
  await mkdir(d, { recursive: true });
  const f = join(d, '0.log');
  const perChunk = 10;
  const perFile = 60;
  const rotated: string[] = [];
  let stamp = 0;
  let written = 0;
  /** Between the rename of `0.log` and the removal of the file compressed. */
  let rotating = false;
  const writer = (async () => {
    for (; written < total; written += perChunk) {
      let chunk = '';
      for (let j = written; j < written + perChunk; j++) chunk += cri(`line ${j}`);
      await appendFile(f, chunk);
      if ((written + perChunk) % perFile === 0) {
        rotating = true;
        await rotateCri(f, `${f}.20261123-${String(100000 + stamp++).padStart(6, '0')}`, rotated);
        rotating = false;
      }
      await sleep(random() * 4);
    }
  })();
  const make = (positions: Record<string, unknown>) =>
    runSource(source(root, { tailer: { pollMs: 5, batchLines: 7 } }), positions);
  const bodies: string[] = [];
  let restarts = 0;
  let midRotation = 0;
  let r = make({});
  let writing = true;
  const stopWriting = () => {
    writing = false;
  };
  writer.then(stopWriting, stopWriting); // a failure is thrown by `await writer` below
  while (writing) {
    await sleep(random() * 40);
    if (rotating) midRotation++;
    await r.stop();
    bodies.push(...r.bodies());
    r = make(r.positions());
    restarts++;
  }
  await writer;
  await r.waitFor(total - bodies.length, 10_000).catch(() => {});
  await sleep(100);
  await r.stop();
  bodies.push(...r.bodies());
  const counts = new Map<string, number>();
  for (const b of bodies) counts.set(b, (counts.get(b) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1).map(([b]) => b);
  const lost = Array.from({ length: total }, (_, i) => `line ${i}`).filter((b) => !counts.has(b));
  assert.deepEqual(
    { repeated: repeated.slice(0, 10), lost: lost.slice(0, 10) },
    { repeated: [], lost: [] },
    `seed ${seed}, ${restarts} restarts: ${repeated.length} repeated, ${lost.length} lost`,
  );
  assert.equal(bodies.length, total);
  return midRotation;
}

describe('pods source: lines taken as bytes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kj-pods-bytes-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Lines of every shape the byte path takes or hands to the text path. */
  const content = Buffer.concat([
    Buffer.from(cri('plain stdout')),
    Buffer.from(cri('{"level":"error","msg":"a \\"quoted\\" word"}', 'stderr')),
    Buffer.from(cri('no fraction', 'stdout', 'F', '2026-11-23T10:00:01Z')),
    Buffer.from(cri('three digits', 'stdout', 'F', '2026-11-23T10:00:02.123Z')),
    Buffer.from(cri('an offset', 'stdout', 'F', '2026-11-23T12:00:03.5+02:00')),
    Buffer.from(cri('tags after a colon', 'stdout', 'F:x=1')),
    Buffer.from('2026-11-23T10:00:04.000000001Z stdout F\n'), // empty content
    Buffer.from(cri('first half, ', 'stdout', 'P')),
    Buffer.from(cri('an error between', 'stderr')),
    Buffer.from(cri('second half', 'stdout', 'F')),
    Buffer.from(cri('ünïcode ✓ 😀')),
    // Beyond the first 64 KiB read: the next chunk, with invalid UTF-8, goes the text path.
    Buffer.from(cri(`a long line ${'x'.repeat(100_000)}`)),
    Buffer.concat([
      Buffer.from('2026-11-23T10:00:05Z stdout F bad '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(' bytes\n'),
    ]),
    Buffer.from('this is not a CRI line\n'),
    Buffer.from(cri('the next hour', 'stdout', 'F', '2026-11-23T11:00:00.000000002Z')),
  ]);

  async function read(stageBytes: boolean) {
    const d = containerDir(dir, 'shop', `web-${stageBytes ? 'b' : 't'}`);
    await mkdir(d, { recursive: true });
    await writeFile(join(d, '0.log'), content);
    const r = runSource(source(dir, { dir: join(dir) }), {}, undefined, { stageBytes });
    await r.waitFor(13);
    await r.stop();
    await rm(join(d, '..'), { recursive: true, force: true });
    return {
      stagedAsBytes: r.stagedAsBytes,
      problems: r.problems.map((p) => p.reason),
      records: r.records().map((x) => ({
        ts: x.timestamp,
        stream: x.labels.stream,
        attributes: x.attributes,
        body: x.body,
      })),
    };
  }

  test('give exactly the records of the text path, in file order', async () => {
    const text = await read(false);
    const bytes = await read(true);
    assert.equal(text.stagedAsBytes, 0);
    // As bytes: the lines of the first 64 KiB but the file's first (its parser is chosen from text),
    // the one with an offset, and the split line with what came while it was held; not the second
    // read, which holds invalid UTF-8.
    assert.equal(bytes.stagedAsBytes, 6, 'lines staged as bytes');
    assert.deepEqual(bytes.records, text.records);
    assert.deepEqual(bytes.problems, text.problems);
    assert.deepEqual(text.problems, ['corrupt_line']);
    const bodies = text.records.map((r) => r.body);
    assert.deepEqual(bodies.slice(0, 8), [
      'plain stdout',
      '{"level":"error","msg":"a \\"quoted\\" word"}',
      'no fraction',
      'three digits',
      'an offset',
      'tags after a colon',
      '',
      'an error between',
    ]);
    assert.equal(bodies[8], 'first half, second half');
    assert.equal(bodies[11], 'bad \ufffd\ufffd bytes');
    assert.equal(text.records[4]!.ts, 1_795_428_003_500_000_000n);
  });
});
