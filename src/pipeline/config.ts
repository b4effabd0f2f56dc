/**
 * @module The pipeline's configuration, shared by `serve` and `agent`: the `outputs` and `flows`
 * keys of their YAML file (other top-level keys are the host's and are ignored here; see
 * `PIPELINE_KEYS`).
 *
 * ```yaml
 * outputs:
 *   - name: siem                  # unique; letters, digits, _ and -
 *     type: syslog                # a type of src/pipeline/outputs/index.ts; the rest goes to its factory
 *     url: tcp://siem.example:6514
 *     buffer: { maxBytes: 64MiB, dir: /var/lib/kjournal/outputs }   # the runtime's keys, for
 *     batch: { maxRecords: 1000, maxBytes: 1MiB, maxWaitSeconds: 1 } # every output type
 *     retry: { minBackoffSeconds: 1, maxBackoffSeconds: 60 }
 * flows:
 *   - name: audit-to-siem         # unique
 *     match:                      # in order, the first that matches decides (flows.ts)
 *       - select: { kind: [auditevent] }
 *       - exclude: { labels: { namespace: kube-system } }
 *     filters:                    # in order; each `{type: options}`
 *       - auditPolicy: { file: /etc/kjournal/policy.yaml }
 *     outputs: [siem]             # declared outputs, or `journal` (the local store)
 * ```
 *
 * Every error names the file, line and column and the field: `kjournal.yaml:12:7:
 * flows[0].filters[1].parser.format: must be one of json, logfmt, ...` (config-error.ts). Loading
 * builds the filters and the outputs (their factories validate their own options); the caller owns
 * the outputs and closes them.
 */

import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Document, LineCounter, parseDocument } from 'yaml';
import { ConfigError, type ConfigPath, describe, Options } from '../config/options.js';
import { CLASSES, KINDS } from '../model/record.js';
import { sizeValue } from '../util/size.js';
import { KeyConfigError, locate, PipelineConfigError } from './config-error.js';
import type { Filter, FilterContext, FilterFactory } from './filter.js';
import type { MatchRule } from './flows.js';
import { JOURNAL_OUTPUT } from './outputs/journal.js';
import type { Output, OutputFactory } from './outputs/output.js';

export { PipelineConfigError } from './config-error.js';

/** The top-level keys this module reads; a host's own config accepts them and leaves them to it. */
export const PIPELINE_KEYS = ['outputs', 'flows'] as const;

export interface BufferSettings {
  /** Bytes of records waiting on disk before new ones are dropped. */
  readonly maxBytes: number;
  /** Where the buffer and the dead-letter file live (relative to the file); absent: `<stateDir>/outputs`. */
  readonly dir?: string;
}
export interface BatchSettings {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly maxWaitMs: number;
}
export interface RetrySettings {
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_BUFFER: BufferSettings = { maxBytes: 64 * 1024 * 1024 };
export const DEFAULT_BATCH: BatchSettings = { maxRecords: 1000, maxBytes: 1024 * 1024, maxWaitMs: 1000 };
export const DEFAULT_RETRY: RetrySettings = { minBackoffMs: 1000, maxBackoffMs: 60_000 };

export interface OutputConfig {
  readonly name: string;
  readonly type: string;
  readonly output: Output;
  readonly buffer: BufferSettings;
  readonly batch: BatchSettings;
  readonly retry: RetrySettings;
}

export interface FlowConfig {
  readonly name: string;
  readonly match: readonly MatchRule[];
  readonly filters: readonly Filter[];
  /** Names of declared outputs, or `journal`. */
  readonly outputs: readonly string[];
}

export interface PipelineConfig {
  readonly file: string;
  readonly outputs: readonly OutputConfig[];
  readonly flows: readonly FlowConfig[];
}

export interface Registries {
  readonly filters: Readonly<Record<string, FilterFactory>>;
  readonly outputs: Readonly<Record<string, OutputFactory>>;
}

export interface LoadOptions {
  /** The filter and output types; absent: every type of this build (registries.ts). */
  readonly registries?: Registries;
  /** The filters' clock (tests fix it). */
  readonly now?: () => number;
  /** The file's content when the caller has already read it. */
  readonly text?: string;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;
const NAME_RULE = 'must be a name of letters, digits, _ and - (starting with a letter or _, at most 63)';

function size(o: Options, key: string, dflt: number): number {
  const v = o.raw(key);
  if (v === undefined || v === null) return dflt;
  const n = sizeValue(v);
  if (n === undefined) throw o.error(key, `must be a size such as 1MiB or 4096, got ${describe(v)}`);
  return n;
}

function name(o: Options, seen: Map<string, number>, what: string): string {
  const n = o.string('name');
  if (!NAME_RE.test(n)) throw o.error('name', `${NAME_RULE}, got ${JSON.stringify(n)}`);
  const prev = seen.get(n);
  if (prev !== undefined)
    throw o.error('name', `duplicate name ${JSON.stringify(n)} (also ${what}[${prev}])`);
  return n;
}

const RUNTIME_KEYS = ['name', 'type', 'buffer', 'batch', 'retry'];

function readOutput(
  item: { value: unknown; path: ConfigPath },
  index: number,
  seen: Map<string, number>,
  factories: Readonly<Record<string, OutputFactory>>,
  baseDir: string,
): OutputConfig {
  const o = new Options(item.value, item.path);
  const n = name(o, seen, 'outputs');
  if (n === JOURNAL_OUTPUT)
    throw o.error(
      'name',
      '"journal" is the built-in local store: use another name (flows send to journal as is)',
    );
  seen.set(n, index);
  const type = o.string('type');
  const factory = Object.hasOwn(factories, type) ? factories[type] : undefined;
  if (factory === undefined) {
    const known = Object.keys(factories).filter((t) => t !== JOURNAL_OUTPUT);
    throw o.error('type', `unknown output type ${JSON.stringify(type)} (known: ${known.sort().join(', ')})`);
  }
  const b = o.object('buffer');
  const dir = b.optionalString('dir');
  const buffer: BufferSettings = {
    maxBytes: size(b, 'maxBytes', DEFAULT_BUFFER.maxBytes),
    ...(dir ? { dir } : {}),
  };
  b.done();
  const t = o.object('batch');
  const batch: BatchSettings = {
    maxRecords: t.integer('maxRecords', DEFAULT_BATCH.maxRecords, 1),
    maxBytes: size(t, 'maxBytes', DEFAULT_BATCH.maxBytes),
    maxWaitMs: t.number('maxWaitSeconds', DEFAULT_BATCH.maxWaitMs / 1000, 0) * 1000,
  };
  t.done();
  const r = o.object('retry');
  const retry: RetrySettings = {
    minBackoffMs: r.number('minBackoffSeconds', DEFAULT_RETRY.minBackoffMs / 1000, 0.001) * 1000,
    maxBackoffMs: r.number('maxBackoffSeconds', DEFAULT_RETRY.maxBackoffMs / 1000, 0.001) * 1000,
  };
  if (retry.maxBackoffMs < retry.minBackoffMs)
    throw r.error('maxBackoffSeconds', 'must be at least minBackoffSeconds');
  r.done();
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o.value)) if (!RUNTIME_KEYS.includes(k)) rest[k] = v;
  const output = factory(n, new Options(rest, item.path), { baseDir });
  return { name: n, type, output, buffer, batch, retry };
}

/** The path of the `i`-th value of a string list; the key's own when it is written as one string. */
function itemPath(o: Options, key: string, i: number): ConfigPath {
  return Array.isArray(o.value[key]) ? o.at(key).concat(i) : o.at(key);
}

function valueLists(o: Options, key: string): Record<string, string[]> | undefined {
  if (!o.has(key)) {
    o.raw(key); // a `key: null` is read too, not an unknown field
    return undefined;
  }
  const m = o.object(key);
  const out: Record<string, string[]> = {};
  for (const k of Object.keys(m.value)) {
    const values = m.stringList(k);
    if (values.length === 0) throw m.error(k, 'must name at least one value');
    out[k] = values;
  }
  return out;
}

function oneOfList(o: Options, key: string, allowed: readonly string[]): string[] | undefined {
  if (!o.has(key)) {
    o.raw(key); // a `key: null` is read too, not an unknown field
    return undefined;
  }
  const values = o.stringList(key);
  if (values.length === 0) throw o.error(key, 'must name at least one value');
  values.forEach((v, i) => {
    if (!allowed.includes(v))
      throw new ConfigError(
        itemPath(o, key, i),
        `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`,
      );
  });
  return values;
}

function readRule(item: { value: unknown; path: ConfigPath }): MatchRule {
  const v = item.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ConfigError(item.path, `must be a mapping with select or exclude, got ${describe(v)}`);
  const keys = Object.keys(v);
  for (const k of keys) {
    if (k !== 'select' && k !== 'exclude')
      throw new KeyConfigError(
        [...item.path, k],
        `unknown field ${JSON.stringify(k)} (expected select or exclude)`,
      );
  }
  if (keys.length !== 1)
    throw new ConfigError(item.path, 'must have exactly one of select or exclude (use one list item each)');
  const action = keys[0] as 'select' | 'exclude';
  const o = new Options((v as Record<string, unknown>)[action], [...item.path, action]);
  const kind = oneOfList(o, 'kind', KINDS);
  const cls = oneOfList(o, 'class', CLASSES);
  const labels = valueLists(o, 'labels');
  const attributes = valueLists(o, 'attributes');
  o.done();
  return {
    action,
    ...(kind ? { kind } : {}),
    ...(cls ? { class: cls } : {}),
    ...(labels ? { labels } : {}),
    ...(attributes ? { attributes } : {}),
  };
}

function readFilter(
  item: { value: unknown; path: ConfigPath },
  factories: Readonly<Record<string, FilterFactory>>,
  ctx: FilterContext,
): Filter {
  const v = item.value;
  const keys = typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.keys(v) : [];
  if (keys.length !== 1)
    throw new ConfigError(
      item.path,
      `must be a mapping with one key, the filter's type (such as "grep: {...}"), got ${keys.length > 1 ? `${keys.length} keys` : describe(v)}`,
    );
  const type = keys[0]!;
  const path = [...item.path, type];
  const factory = Object.hasOwn(factories, type) ? factories[type] : undefined;
  if (factory === undefined)
    throw new KeyConfigError(
      path,
      `unknown filter type ${JSON.stringify(type)} (known: ${Object.keys(factories).sort().join(', ')})`,
    );
  try {
    return factory(new Options((v as Record<string, unknown>)[type], path), ctx);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(path, err instanceof Error ? err.message : String(err));
  }
}

function readFlow(
  item: { value: unknown; path: ConfigPath },
  seen: Map<string, number>,
  index: number,
  outputs: ReadonlySet<string>,
  filters: Readonly<Record<string, FilterFactory>>,
  ctx: FilterContext,
): FlowConfig {
  const o = new Options(item.value, item.path);
  const n = name(o, seen, 'flows');
  seen.set(n, index);
  const match = o.list('match').map(readRule);
  const built = o.list('filters').map((f) => readFilter(f, filters, ctx));
  const targets = o.stringList('outputs');
  if (targets.length === 0)
    throw o.error('outputs', `must name at least one output (declared ones, or ${JOURNAL_OUTPUT})`);
  targets.forEach((t, i) => {
    if (!outputs.has(t))
      throw new ConfigError(
        itemPath(o, 'outputs', i),
        `unknown output ${JSON.stringify(t)} (declared: ${[...outputs].join(', ')})`,
      );
  });
  o.done();
  return { name: n, match, filters: built, outputs: [...new Set(targets)] };
}

/**
 * Reads the pipeline of a parsed file. With `errors`, a wrong output or flow is collected there and
 * left out, and the reading goes on (`kjournal config check` reports every one); without, the first
 * throws. An output that failed still counts as declared, so that flows naming it are not wrong too.
 */
function readConfig(
  value: unknown,
  file: string,
  registries: Registries,
  now: () => number,
  errors?: ConfigError[],
): PipelineConfig {
  const attempt = <T>(read: () => T): T | undefined => {
    if (errors === undefined) return read();
    try {
      return read();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push(err);
      return undefined;
    }
  };
  const top = new Options(value, []);
  const outputs: OutputConfig[] = [];
  try {
    const seenOutputs = new Map<string, number>();
    const names = new Set([JOURNAL_OUTPUT]);
    (attempt(() => top.list('outputs')) ?? []).forEach((item, i) => {
      const output = attempt(() => readOutput(item, i, seenOutputs, registries.outputs, dirname(file)));
      if (output) outputs.push(output);
      const n = (item.value as { name?: unknown } | null)?.name;
      if (typeof n === 'string') names.add(n);
    });
    const ctx: FilterContext = { baseDir: dirname(file), now };
    const seenFlows = new Map<string, number>();
    const flows: FlowConfig[] = [];
    (attempt(() => top.list('flows')) ?? []).forEach((item, i) => {
      const flow = attempt(() => readFlow(item, seenFlows, i, names, registries.filters, ctx));
      if (flow) flows.push(flow);
    });
    return { file, outputs, flows };
  } catch (err) {
    for (const o of outputs) void o.output.close().catch(() => undefined);
    throw err;
  }
}

async function defaultRegistries(): Promise<Registries> {
  // Loaded only when needed, so that a caller with its own registries (tests) needs none of them.
  const { FILTERS, OUTPUTS } = await import('./registries.js');
  return { filters: FILTERS, outputs: OUTPUTS };
}

function yamlErrors(doc: Document, lineCounter: LineCounter, file: string): PipelineConfigError[] {
  return doc.errors.map((e) => {
    const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
    const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return new PipelineConfigError(file, pos.line, pos.col, [], `not valid YAML: ${message}`);
  });
}

/**
 * The configuration of `text` (the content of `file`, which names it in errors and is the base of
 * relative paths). Throws PipelineConfigError, located.
 */
export function parsePipelineConfig(
  text: string,
  file: string,
  registries: Registries,
  now: () => number = Date.now,
): PipelineConfig {
  const { config, errors } = readPipeline(text, file, registries, now, false);
  if (errors[0]) throw errors[0];
  return config!;
}

/**
 * Every error of `text`'s pipeline at once, located (YAML syntax errors first and alone), and the
 * configuration of what was right; the caller owns its outputs (closePipelineConfig).
 */
export function parsePipelineConfigAll(
  text: string,
  file: string,
  registries: Registries,
  now: () => number = Date.now,
): { config?: PipelineConfig; errors: PipelineConfigError[] } {
  return readPipeline(text, file, registries, now, true);
}

function readPipeline(
  text: string,
  file: string,
  registries: Registries,
  now: () => number,
  all: boolean,
): { config?: PipelineConfig; errors: PipelineConfigError[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const syntax = yamlErrors(doc, lineCounter, file);
  if (syntax.length > 0) return { errors: syntax };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return { errors: [new PipelineConfigError(file, 1, 1, [], `not valid YAML: ${(err as Error).message}`)] };
  }
  const collected: ConfigError[] = [];
  try {
    const config = readConfig(value, file, registries, now, all ? collected : undefined);
    return { config, errors: collected.map((e) => locate(e, doc, lineCounter, file)) };
  } catch (err) {
    if (err instanceof ConfigError) return { errors: [locate(err, doc, lineCounter, file)] };
    throw err;
  }
}

/** The text of a configuration file; an Error `FILE: cannot read (no such file)` when it cannot be read. */
export async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: cannot read (${code === 'ENOENT' ? 'no such file' : (code ?? String(err))})`);
  }
}

/** Reads and parses `file`; errors are PipelineConfigError, or an Error when the file cannot be read. */
export async function loadPipelineConfig(file: string, options: LoadOptions = {}): Promise<PipelineConfig> {
  const text = options.text ?? (await readConfigText(file));
  return parsePipelineConfig(text, file, options.registries ?? (await defaultRegistries()), options.now);
}

/** Closes the outputs a loaded configuration built (when it is not handed to a Pipeline). */
export async function closePipelineConfig(config: PipelineConfig): Promise<void> {
  await Promise.allSettled(config.outputs.map((o) => o.output.close()));
}

/**
 * Validates `text` as a start would (building every filter and output, then closing them); returns
 * how many outputs and flows it declares. Throws PipelineConfigError.
 */
export async function checkPipelineConfig(
  text: string,
  file: string,
  options: LoadOptions = {},
): Promise<{ outputs: number; flows: number }> {
  const config = parsePipelineConfig(
    text,
    file,
    options.registries ?? (await defaultRegistries()),
    options.now,
  );
  await closePipelineConfig(config);
  return { outputs: config.outputs.length, flows: config.flows.length };
}
