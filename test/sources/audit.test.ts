import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { auditParser } from '../../src/import/formats/audit.js';
import { createAuditLogSource } from '../../src/sources/audit/index.js';
import { runSource, sleep } from './file-source-helpers.js';
import { sourceContract } from './source-contract.js';

/** A deterministic audit.k8s.io/v1 Event for a produced line. */
function event(line: string, i = 0): string {
  return JSON.stringify({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: `id-${line.replace(/\W/g, '-')}`,
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/shop/pods?q=${encodeURIComponent(line)}`,
    verb: 'list',
    user: { username: 'alice', groups: ['system:authenticated'] },
    objectRef: { resource: 'pods', namespace: 'shop', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: '2026-11-23T10:00:00.000000Z',
    stageTimestamp: `2026-11-23T10:00:00.${String(i).padStart(6, '0')}Z`,
  });
}

const source = (dir: string) =>
  createAuditLogSource({ path: join(dir, 'audit.log'), node: 'cp-1', tailer: { pollMs: 30 } });

sourceContract('audit', {
  resumable: true,
  async create(dir) {
    return source(dir);
  },
  async produce(dir, lines) {
    await appendFile(join(dir, 'audit.log'), lines.map((l) => `${event(l)}\n`).join(''));
  },
  body: (line) => event(line),
  async produceBad(dir) {
    await appendFile(join(dir, 'audit.log'), '{"kind":"Event", truncated\n');
  },
});

describe('audit source', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kj-audit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('records as `kjournal import --format audit` builds them, plus node', async () => {
    const line = event('x', 42);
    await writeFile(join(dir, 'audit.log'), `${line}\n`);
    // Not the audit log: ignored.
    await writeFile(join(dir, 'other.log'), `${event('other')}\n`);
    const r = runSource(source(dir));
    await r.waitFor(1);
    await sleep(100);
    await r.stop();
    const imported: { labels: Record<string, string>; ts: bigint; attrs?: Record<string, string> }[] = [];
    const p = auditParser(
      { path: 'audit.log' },
      { entry: (labels, ts, _l, attrs) => imported.push({ labels, ts, attrs }), malformed: () => {} },
    );
    p.line(line, 1);
    const [rec] = r.records();
    assert.equal(r.records().length, 1);
    assert.equal(rec?.body, line);
    assert.equal(rec?.labels.kind, 'auditevent');
    assert.equal(rec?.labels.class, 'audit');
    assert.deepEqual(rec?.labels, { ...imported[0]?.labels, node: 'cp-1' });
    assert.equal(rec?.timestamp, imported[0]?.ts);
    assert.equal(rec?.timestamp, BigInt(Date.parse('2026-11-23T10:00:00Z')) * 1_000_000n + 42_000n);
    assert.deepEqual(rec?.attributes, imported[0]?.attrs);
    assert.equal(rec?.attributes.verb, 'list');
    assert.equal(rec?.attributes.user_username, 'alice');
  });

  test('lumberjack rotation (audit-<time>.log, then .gz) at a steady rate: every event exactly once', async () => {
    const f = join(dir, 'audit.log');
    const total = 1500;
    const r = runSource(createAuditLogSource({ path: f, node: 'cp-1', tailer: { pollMs: 20 } }));
    let n = 0;
    let prev: string | undefined;
    for (let i = 0; i < total; i += 15) {
      let chunk = '';
      for (let j = i; j < i + 15; j++) chunk += `${event(`e${j}`, j)}\n`;
      await appendFile(f, chunk);
      if ((i + 15) % 150 === 0) {
        const backup = join(dir, `audit-2026-11-23T10-00-${String(n++).padStart(2, '0')}.000.log`);
        await rename(f, backup);
        await writeFile(f, '');
        if (prev) {
          await writeFile(`${prev}.gz`, gzipSync(await readFile(prev)));
          await unlink(prev);
        }
        prev = backup;
      }
      await sleep(5);
    }
    await r.waitFor(total, 15_000);
    await sleep(300);
    await r.stop();
    const bodies = r.bodies();
    assert.equal(bodies.length, total);
    assert.deepEqual(
      bodies,
      Array.from({ length: total }, (_, j) => event(`e${j}`, j)),
    );
  });

  test('a first start reads the rotated backups (gzipped or not) oldest first, then the live file', async () => {
    await writeFile(join(dir, 'audit-2026-11-23T09-00-00.000.log.gz'), gzipSync(`${event('a', 1)}\n`));
    await writeFile(join(dir, 'audit-2026-11-23T10-00-00.000.log'), `${event('b', 2)}\n`);
    await writeFile(join(dir, 'audit.log'), `${event('c', 3)}\nnot json\n${event('d', 4)}\n`);
    const r = runSource(source(dir));
    await r.waitFor(3);
    await r.stop();
    assert.deepEqual(r.bodies(), [event('a', 1), event('b', 2), event('c', 3), event('d', 4)]);
    assert.equal(r.problems.filter((p) => p.reason === 'corrupt_line').length, 1);
  });
});
