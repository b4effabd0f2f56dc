/**
 * The pipeline configuration: a good file read completely, and for many mistakes the exact
 * `file:line:col: path: reason`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  checkPipelineConfig,
  closePipelineConfig,
  DEFAULT_BATCH,
  DEFAULT_BUFFER,
  DEFAULT_RETRY,
  loadPipelineConfig,
  PIPELINE_KEYS,
  PipelineConfigError,
  parsePipelineConfig,
  parsePipelineConfigAll,
} from '../../src/pipeline/config.js';
import { type MemoryOutput, rec, testRegistries } from './helpers.js';

const FILE = 'pipeline.yaml';

const GOOD = `server: http://kjournal:3100   # the host's key: ignored here
outputs:
  - name: siem
    type: memory
    url: tcp://siem.example:6514
    buffer: { maxBytes: 8MiB, dir: buffers }
    batch: { maxRecords: 50, maxBytes: 65536, maxWaitSeconds: 0.5 }
    retry: { minBackoffSeconds: 0.1, maxBackoffSeconds: 5 }
  - name: other
    type: memory
    url: http://x
flows:
  - name: audit-to-siem
    match:
      - select: { kind: [auditevent] }
      - exclude: { labels: { namespace: kube-system } }
    filters:
      - tag: { value: audit }
      - upper: {}
    outputs: [siem, journal]
  - name: all
    outputs: journal
`;

test('a good configuration: outputs with their runtime keys, flows with match, filters and outputs', () => {
  const made = new Map<string, MemoryOutput>();
  const cfg = parsePipelineConfig(GOOD, FILE, testRegistries(made));
  assert.deepEqual(PIPELINE_KEYS, ['outputs', 'flows']);
  assert.equal(cfg.file, FILE);
  assert.deepEqual(
    cfg.outputs.map((o) => [o.name, o.type, o.buffer, o.batch, o.retry]),
    [
      [
        'siem',
        'memory',
        { maxBytes: 8 * 1024 * 1024, dir: 'buffers' },
        { maxRecords: 50, maxBytes: 65536, maxWaitMs: 500 },
        { minBackoffMs: 100, maxBackoffMs: 5000 },
      ],
      ['other', 'memory', DEFAULT_BUFFER, DEFAULT_BATCH, DEFAULT_RETRY],
    ],
  );
  assert.equal(cfg.outputs[0]!.output, made.get('siem'));
  assert.equal(cfg.flows.length, 2);
  const [audit, all] = cfg.flows;
  assert.equal(audit!.name, 'audit-to-siem');
  assert.deepEqual(audit!.match, [
    { action: 'select', kind: ['auditevent'] },
    { action: 'exclude', labels: { namespace: ['kube-system'] } },
  ]);
  assert.deepEqual(
    audit!.filters.map((f) => f.type),
    ['tag', 'upper'],
  );
  const r = audit!.filters.reduce((x, f) => f.apply(x)!, rec({}, 'hello'));
  assert.equal(r.body, 'HELLO');
  assert.equal(r.attributes.tag, 'audit');
  assert.deepEqual(audit!.outputs, ['siem', 'journal']);
  assert.deepEqual(all!.match, []);
  assert.deepEqual(all!.filters, []);
  assert.deepEqual(all!.outputs, ['journal']);
});

test('an empty file, or one with only the host keys, has no outputs and no flows', async () => {
  for (const text of ['', '# nothing\n', 'server: http://x\nstateDir: /tmp\n']) {
    assert.deepEqual(await checkPipelineConfig(text, FILE, { registries: testRegistries() }), {
      outputs: 0,
      flows: 0,
    });
  }
});

test('checkPipelineConfig counts and closes the outputs it built', async () => {
  const made = new Map<string, MemoryOutput>();
  assert.deepEqual(await checkPipelineConfig(GOOD, FILE, { registries: testRegistries(made) }), {
    outputs: 2,
    flows: 2,
  });
  assert.ok(made.get('siem')!.closed && made.get('other')!.closed);
});

test('loadPipelineConfig reads the file; errors name it; a missing file says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-pipeline-config-'));
  try {
    const file = join(dir, 'kjournal.yaml');
    await writeFile(file, GOOD);
    const cfg = await loadPipelineConfig(file, { registries: testRegistries() });
    assert.equal(cfg.flows.length, 2);
    await closePipelineConfig(cfg);
    await writeFile(file, 'flows:\n  - name: a\n    outputs: [nowhere]\n');
    await assert.rejects(loadPipelineConfig(file, { registries: testRegistries() }), {
      message: `${file}:3:15: flows[0].outputs[0]: unknown output "nowhere" (declared: journal)`,
    });
    await assert.rejects(loadPipelineConfig(join(dir, 'missing.yaml'), { registries: testRegistries() }), {
      message: `${join(dir, 'missing.yaml')}: cannot read (no such file)`,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const OUT = 'outputs:\n  - name: siem\n    type: memory\n    url: u\n';

/** [what, text, the whole expected message] */
const MISTAKES: [string, string, string][] = [
  ['YAML syntax', 'flows:\n  - name: a\n    outputs: [journal\n', '4:1: not valid YAML: '],
  ['a duplicate key', 'flows: []\nflows: []\n', '2:1: not valid YAML: Map keys must be unique'],
  ['not a mapping', '- a\n- b\n', '1:1: must be a mapping, got a list'],
  ['outputs not a list', 'outputs: {}\n', '1:10: outputs: must be a list, got a mapping'],
  [
    'an unknown output type',
    'outputs:\n  - name: siem\n    type: sislog\n',
    '3:11: outputs[0].type: unknown output type "sislog" (known: memory)',
  ],
  [
    'type journal',
    'outputs:\n  - name: local\n    type: journal\n',
    '3:11: outputs[0].type: unknown output type "journal" (known: memory)',
  ],
  ['a missing type', 'outputs:\n  - name: siem\n', '2:5: outputs[0].type: is required'],
  [
    'an unsafe output name',
    'outputs:\n  - name: "my siem"\n    type: memory\n',
    '2:11: outputs[0].name: must be a name of letters, digits, _ and - (starting with a letter or _, at most 63), got "my siem"',
  ],
  [
    'the reserved name journal',
    'outputs:\n  - name: journal\n    type: memory\n',
    '2:11: outputs[0].name: "journal" is the built-in local store: use another name (flows send to journal as is)',
  ],
  [
    'a duplicate output name',
    `${OUT}  - name: siem\n    type: memory\n    url: v\n`,
    '5:11: outputs[1].name: duplicate name "siem" (also outputs[0])',
  ],
  [
    "a factory's required option",
    'outputs:\n  - name: siem\n    type: memory\n',
    '2:5: outputs[0].url: is required',
  ],
  [
    "an unknown option of the output's factory",
    `${OUT}    urll: x\n`,
    '5:5: outputs[0].urll: unknown field "urll"',
  ],
  [
    'a bad buffer size',
    `${OUT}    buffer: { maxBytes: lots }\n`,
    '5:25: outputs[0].buffer.maxBytes: must be a size such as 1MiB or 4096, got string "lots"',
  ],
  [
    'an unknown batch key',
    `${OUT}    batch: { maxRecord: 5 }\n`,
    '5:14: outputs[0].batch.maxRecord: unknown field "maxRecord"',
  ],
  [
    'a batch of no records',
    `${OUT}    batch:\n      maxRecords: 0\n`,
    '6:19: outputs[0].batch.maxRecords: must be at least 1, got 0',
  ],
  [
    'retry backoffs the wrong way round',
    `${OUT}    retry: { minBackoffSeconds: 10, maxBackoffSeconds: 1 }\n`,
    '5:56: outputs[0].retry.maxBackoffSeconds: must be at least minBackoffSeconds',
  ],
  [
    'an unknown output in a flow',
    `${OUT}flows:\n  - name: f\n    outputs: [siem, elk]\n`,
    '7:21: flows[0].outputs[1]: unknown output "elk" (declared: journal, siem)',
  ],
  [
    'a flow without outputs',
    'flows:\n  - name: f\n    match: []\n',
    '2:5: flows[0].outputs: must name at least one output (declared ones, or journal)',
  ],
  ['a flow without a name', 'flows:\n  - outputs: [journal]\n', '2:5: flows[0].name: is required'],
  [
    'a duplicate flow name',
    'flows:\n  - name: f\n    outputs: journal\n  - name: f\n    outputs: journal\n',
    '4:11: flows[1].name: duplicate name "f" (also flows[0])',
  ],
  [
    'an unknown flow field',
    'flows:\n  - name: f\n    filter: []\n    outputs: journal\n',
    '3:5: flows[0].filter: unknown field "filter"',
  ],
  [
    'a match item with both select and exclude',
    'flows:\n  - name: f\n    match:\n      - select: {}\n        exclude: {}\n    outputs: journal\n',
    '4:9: flows[0].match[0]: must have exactly one of select or exclude (use one list item each)',
  ],
  [
    'a misspelt select',
    'flows:\n  - name: f\n    match:\n      - selct: { kind: log }\n    outputs: journal\n',
    '4:9: flows[0].match[0].selct: unknown field "selct" (expected select or exclude)',
  ],
  [
    'a match item that is a string',
    'flows:\n  - name: f\n    match: [select]\n    outputs: journal\n',
    '3:13: flows[0].match[0]: must be a mapping with select or exclude, got string "select"',
  ],
  [
    'an unknown kind',
    'flows:\n  - name: f\n    match:\n      - select: { kind: [log, auditevnt] }\n    outputs: journal\n',
    '4:31: flows[0].match[0].select.kind[1]: must be one of containerlog, event, auditevent, log, got "auditevnt"',
  ],
  [
    'an unknown class, as one string',
    'flows:\n  - name: f\n    match:\n      - exclude: { class: audits }\n    outputs: journal\n',
    '4:27: flows[0].match[0].exclude.class: must be one of application, infrastructure, audit, got "audits"',
  ],
  [
    'a label value that is a mapping',
    'flows:\n  - name: f\n    match:\n      - select:\n          labels:\n            namespace: { a: b }\n    outputs: journal\n',
    '6:24: flows[0].match[0].select.labels.namespace: must be a string or a list of strings, got a mapping',
  ],
  [
    'an empty list of attribute values',
    'flows:\n  - name: f\n    match:\n      - select: { attributes: { user: [] } }\n    outputs: journal\n',
    '4:39: flows[0].match[0].select.attributes.user: must name at least one value',
  ],
  [
    'an unknown select condition',
    'flows:\n  - name: f\n    match:\n      - select: { namespaces: [a] }\n    outputs: journal\n',
    '4:19: flows[0].match[0].select.namespaces: unknown field "namespaces"',
  ],
  [
    'an unknown filter type',
    'flows:\n  - name: f\n    filters:\n      - upper: {}\n      - grepp: { x: 1 }\n    outputs: journal\n',
    '5:9: flows[0].filters[1].grepp: unknown filter type "grepp" (known: drop, failing, parser, tag, upper)',
  ],
  [
    "a filter factory's ConfigError",
    'flows:\n  - name: f\n    filters:\n      - upper: {}\n      - parser:\n          format: xml\n    outputs: journal\n',
    '6:19: flows[0].filters[1].parser.format: must be one of json, logfmt, regexp, got "xml"',
  ],
  [
    "a filter factory's unknown option",
    'flows:\n  - name: f\n    filters:\n      - drop: { contains: x, containz: y }\n    outputs: journal\n',
    '4:30: flows[0].filters[0].drop.containz: unknown field "containz"',
  ],
  [
    "a filter factory's plain error",
    'flows:\n  - name: f\n    filters:\n      - failing: { file: policy.yaml }\n    outputs: journal\n',
    '4:18: flows[0].filters[0].failing: cannot read policy.yaml: no such file',
  ],
  [
    'a filter item with two types',
    'flows:\n  - name: f\n    filters:\n      - upper: {}\n        tag: { value: x }\n    outputs: journal\n',
    '4:9: flows[0].filters[0]: must be a mapping with one key, the filter\'s type (such as "grep: {...}"), got 2 keys',
  ],
  [
    'a filter given as a string',
    'flows:\n  - name: f\n    filters: [upper]\n    outputs: journal\n',
    '3:15: flows[0].filters[0]: must be a mapping with one key, the filter\'s type (such as "grep: {...}"), got string "upper"',
  ],
];

for (const [what, text, expected] of MISTAKES) {
  test(`config error: ${what}`, () => {
    let err: unknown;
    try {
      parsePipelineConfig(text, FILE, testRegistries());
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof PipelineConfigError, `expected a PipelineConfigError, got ${String(err)}`);
    if (expected.endsWith(': ')) assert.ok(err.message.startsWith(`${FILE}:${expected}`), err.message);
    else assert.equal(err.message, `${FILE}:${expected}`);
    assert.equal(err.message.split('\n').length, 1);
  });
}

test('an output built before a later error is closed', () => {
  const made = new Map<string, MemoryOutput>();
  assert.throws(() => parsePipelineConfig(`${OUT}flows: 3\n`, FILE, testRegistries(made)), {
    message: `${FILE}:5:8: flows: must be a list, got number 3`,
  });
  assert.equal(made.get('siem')!.closed, true);
});

test('parsePipelineConfigAll reports every wrong output and flow, not a flow that names a wrong output', async () => {
  const made = new Map<string, MemoryOutput>();
  const text = [
    'outputs:',
    '  - name: a', // 2
    '    type: memory',
    '    url: x',
    '  - name: b', // 5
    '    type: nope',
    '  - name: c', // 7
    '    type: memory',
    '    url: x',
    '    batch: { maxRecords: 0 }', // 10
    'flows:',
    '  - name: to-b', // 12: names b, whose type is wrong: not an error of its own
    '    outputs: [b]',
    '  - name: to-z', // 14
    '    outputs: [z]',
    '  - name: to-a', // 16
    '    outputs: [a]',
    '',
  ].join('\n');
  const { config, errors } = parsePipelineConfigAll(text, FILE, testRegistries(made));
  assert.deepEqual(
    errors.map((e) => e.message),
    [
      `${FILE}:6:11: outputs[1].type: unknown output type "nope" (known: memory)`,
      `${FILE}:10:26: outputs[2].batch.maxRecords: must be at least 1, got 0`,
      `${FILE}:15:15: flows[1].outputs[0]: unknown output "z" (declared: journal, a, b, c)`,
    ],
  );
  // What was right is there, built; the caller closes it.
  assert.deepEqual(
    config?.outputs.map((o) => o.name),
    ['a'],
  );
  assert.deepEqual(
    config?.flows.map((f) => f.name),
    ['to-b', 'to-a'],
  );
  await closePipelineConfig(config!);
  assert.equal(made.get('a')!.closed, true);
});
