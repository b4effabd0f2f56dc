/**
 * The pipeline runtime: routing records through flows to `journal` (returned to the host) and to
 * declared outputs (buffered), the per-flow metrics, and isolation of a hung output.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import type { LogRecord } from '../../src/model/record.js';
import { parsePipelineConfig } from '../../src/pipeline/config.js';
import { journalOutput } from '../../src/pipeline/outputs/journal.js';
import { Pipeline } from '../../src/pipeline/runtime.js';
import { type MemoryOutput, metricValue, rec, testRegistries } from './helpers.js';

let root: string;
let n = 0;
const pipelines: Pipeline[] = [];
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kj-runtime-'));
});
after(async () => {
  await Promise.all(pipelines.map((p) => p.close(100)));
  await rm(root, { recursive: true, force: true });
});

async function start(yaml: string) {
  const made = new Map<string, MemoryOutput>();
  const dir = join(root, `p${++n}`);
  const config = parsePipelineConfig(yaml, join(dir, 'kjournal.yaml'), testRegistries(made));
  const registry = new Registry();
  const journal: LogRecord[] = [];
  const pipeline = await Pipeline.start({
    config,
    journal: journalOutput(async (records) => {
      journal.push(...records);
    }),
    stateDir: join(dir, 'state'),
    registry,
    log: () => undefined,
  });
  pipelines.push(pipeline);
  return { pipeline, made, registry, journal, dir };
}

const OUTPUT = (name: string) =>
  `  - name: ${name}\n    type: memory\n    url: u\n    batch: { maxWaitSeconds: 0.01 }\n`;

test('without flows every record goes to journal unchanged and nothing else happens', async () => {
  const { pipeline } = await start(`outputs:\n${OUTPUT('siem')}`);
  const records = [rec(), rec({ kind: 'auditevent' })];
  const out = pipeline.process(records);
  assert.deepEqual(out, records);
  assert.equal(out[0], records[0]);
});

const ISSUE = `outputs:
${OUTPUT('siem')}flows:
  - name: audit-to-siem
    match: # the first matching element decides, so the exclude comes first
      - exclude: { labels: { namespace: kube-system } }
      - select: { kind: [auditevent] }
    filters:
      - drop: { contains: healthz }
      - tag: { value: siem }
    outputs: [siem]
  - name: apps
    match:
      - select: { class: application }
    outputs: [journal]
`;

test("the issue's flows: audit events (not kube-system) to siem, filtered; applications to journal", async () => {
  const { pipeline, made, registry } = await start(ISSUE);
  const a1 = rec({ kind: 'auditevent', class: 'audit', namespace: 'shop' }, 'audit shop');
  const a2 = rec({ kind: 'auditevent', class: 'audit', namespace: 'kube-system' }, 'audit system');
  const a3 = rec({ kind: 'auditevent', class: 'audit', namespace: 'shop' }, 'GET /healthz');
  const c1 = rec({ kind: 'containerlog', class: 'application' }, 'app line');
  const i1 = rec({ kind: 'containerlog', class: 'infrastructure' }, 'infra line');
  const local = pipeline.process([a1, a2, a3, c1, i1]);
  assert.deepEqual(local, [c1]);
  await pipeline.settled();
  await pipeline.outputs.get('siem')!.idle();
  const siem = made.get('siem')!;
  assert.deepEqual(siem.bodies, ['audit shop']);
  assert.equal(siem.batches[0]![0]!.attributes.tag, 'siem');
  assert.equal(siem.batches[0]![0]!.timestamp, a1.timestamp);
  assert.equal(a1.attributes.tag, undefined, 'the input record is not changed');
  const m = (name: string, flow: string) => metricValue(registry, name, { flow });
  assert.equal(await m('kjournal_flow_records_in_total', 'audit-to-siem'), 2);
  assert.equal(await m('kjournal_flow_records_out_total', 'audit-to-siem'), 1);
  assert.equal(await m('kjournal_flow_records_dropped_total', 'audit-to-siem'), 1);
  assert.equal(await m('kjournal_flow_records_in_total', 'apps'), 1);
  assert.equal(await m('kjournal_flow_records_out_total', 'apps'), 1);
  assert.equal(await metricValue(registry, 'kjournal_pipeline_unrouted_records_total'), 2);
  assert.equal(await metricValue(registry, 'kjournal_output_sent_records_total', { output: 'siem' }), 1);
});

test('every flow that takes a record gets its own copy; one unchanged record reaches an output once', async () => {
  const { pipeline, made } = await start(`outputs:
${OUTPUT('a')}${OUTPUT('b')}flows:
  - name: plain1
    outputs: [a, journal]
  - name: plain2
    outputs: [journal]
  - name: upper
    filters: [{ upper: {} }]
    outputs: [a, b]
`);
  const r = rec({}, 'hello');
  const local = pipeline.process([r]);
  assert.deepEqual(local, [r]);
  await pipeline.settled();
  await pipeline.outputs.get('a')!.idle();
  await pipeline.outputs.get('b')!.idle();
  assert.deepEqual(made.get('a')!.bodies, ['hello', 'HELLO']);
  assert.deepEqual(made.get('b')!.bodies, ['HELLO']);
});

test('deliver sends the journal records through the host journal Output', async () => {
  const { pipeline, journal } = await start(ISSUE);
  await pipeline.deliver(
    [rec({ class: 'application' }, 'to store'), rec({ class: 'audit' }, 'nowhere')],
    AbortSignal.timeout(1000),
  );
  assert.deepEqual(
    journal.map((r) => r.body),
    ['to store'],
  );
});

test('a hung output delays neither process() nor another output', async () => {
  const { pipeline, made } = await start(`outputs:
${OUTPUT('hung')}${OUTPUT('fine')}flows:
  - name: both
    outputs: [hung, fine, journal]
`);
  made.get('hung')!.delayMs = 60_000;
  const t0 = Date.now();
  for (let i = 0; i < 20; i++) assert.equal(pipeline.process([rec({}, `m${i}`)]).length, 1);
  assert.ok(Date.now() - t0 < 500, 'process returned at once');
  await pipeline.outputs.get('fine')!.idle(5000);
  assert.equal(made.get('fine')!.bodies.length, 20);
  assert.equal(made.get('hung')!.batches.length, 0);
  const t1 = Date.now();
  await pipeline.close(200);
  assert.ok(Date.now() - t1 < 2000);
});

test('buffers live under <stateDir>/outputs unless buffer.dir says (relative to the file)', async () => {
  const { pipeline, dir } = await start(`outputs:
${OUTPUT('x')}  - name: y
    type: memory
    url: u
    buffer: { dir: own }
flows:
  - name: f
    outputs: [x, y]
`);
  pipeline.process([rec()]);
  await pipeline.settled();
  assert.ok((await readdir(join(dir, 'state', 'outputs'))).includes('x'));
  assert.ok((await readdir(join(dir, 'own'))).includes('y'));
});
