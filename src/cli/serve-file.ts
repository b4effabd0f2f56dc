/**
 * @module `kjournal serve`'s configuration file: every flag is a key, the camelCase of its name
 * (`--min-free-disk` → `minFreeDisk`), derived from commander's option definitions, so a flag added
 * later has its key without more code. The ClickHouse flags live under one `clickhouse:` section
 * (`--clickhouse-url` → `clickhouse.url`, one spelling per setting), beside the keys that are not
 * flags: `outputs` and `flows` (src/pipeline/config.ts), `retentionStream`, `clickhouse.replicated`.
 *
 * Values are the flag's text, or the YAML type that says the same: a number for a size, a count or
 * `0`; `true`/`false` for a switch or `ui`; a list for a comma-separated flag. Each value is judged
 * by its flag's own rule (serve-values.ts), so `serve` and `kjournal config check` agree.
 *
 * Reading collects every error, each located (`serve.yaml:4:16: queryTimeout: must be ...`), as
 * promtool and `kubectl apply --validate` report them: a file is fixed in one round.
 */
import { statSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { type Document, LineCounter, parseDocument } from 'yaml';
import { AuditPolicyError, resolveAuditPolicy } from '../audit/policy/index.js';
import { ConfigError, type ConfigPath, describe } from '../config/options.js';
import { parseRetentionRules, RetentionConfigError } from '../lifecycle/retention-rules.js';
import {
  closePipelineConfig,
  PIPELINE_KEYS,
  type PipelineConfig,
  parsePipelineConfigAll,
} from '../pipeline/config.js';
import { KeyConfigError, locate } from '../pipeline/config-error.js';
import type { RetentionRule } from '../store/store.js';
import { didYouMean } from '../util/did-you-mean.js';
import { camelOf } from './flag-values.js';
import { serveValueRule } from './serve-values.js';

/** Flags whose keys are nested under a section named as their first word. */
const SECTIONS = ['clickhouse'] as const;
/** Keys of a section that are no flag. */
const SECTION_ONLY: Readonly<Record<string, readonly string[]>> = { clickhouse: ['replicated'] };
/** Keys that are no flag. */
const FILE_ONLY = [...PIPELINE_KEYS, 'retentionStream'] as const;
/** Flags without a key: `--config` names the file itself. */
const NOT_IN_FILE = new Set(['config']);
/** Flags that take a comma-separated list: a YAML list is written for them too. */
const COMMA_LISTS = new Set([
  'requestheaderAllowedNames',
  'requestheaderUsernameHeaders',
  'requestheaderGroupHeaders',
  'requestheaderExtraHeadersPrefix',
]);
/** Flags that name a file, which must be there; `--audit-policy` (or `none`) is read by its loader. */
const READ_ELSEWHERE = new Set(['auditPolicy']);

/** One key of the file and the flag it sets. */
export interface FileKey {
  /** `maxLineSize`, `clickhouse.url` */
  readonly key: string;
  readonly path: readonly string[];
  readonly option: Option;
  readonly attribute: string;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** The file's keys of a command's options (every one but `--config`). */
export function fileKeysOf(cmd: Command): Map<string, FileKey> {
  const keys = new Map<string, FileKey>();
  for (const option of cmd.options) {
    const attribute = option.attributeName();
    if (NOT_IN_FILE.has(attribute) || option.hidden) continue;
    const section = SECTIONS.find((s) => attribute.startsWith(s) && /^[A-Z]/.test(attribute.slice(s.length)));
    const path = section ? [section, lowerFirst(attribute.slice(section.length))] : [attribute];
    const key = path.join('.');
    if (!keys.has(key)) keys.set(key, { key, path, option, attribute });
  }
  return keys;
}

/** Every key the file may have at the top level. */
export function topLevelKeys(cmd: Command): string[] {
  const top = new Set<string>(FILE_ONLY);
  for (const k of fileKeysOf(cmd).values()) top.add(k.path[0]!);
  return [...top].sort();
}

export interface ServeFile {
  /** The flags' values the file gives, by attribute, as commander holds a flag's value. */
  readonly values: ReadonlyMap<string, unknown>;
  /** The key of each attribute the file sets, for messages (`tlsCertFile`, `clickhouse.url`). */
  readonly keys: ReadonlyMap<string, string>;
  readonly retentionStreams: readonly RetentionRule[];
  readonly replicated?: boolean;
  /** The flows and outputs, built when the file has no error (the caller owns the outputs). */
  readonly pipeline?: PipelineConfig;
  /** Every error, located: `FILE:LINE:COL: key: reason`. */
  readonly errors: readonly string[];
  /** Places a key is written, for errors found later (`FILE:LINE:COL: `). */
  where(key: string): string;
}

/** A YAML value as commander would hold the flag's value, or the reason it cannot be. */
function flagForm(fk: FileKey, v: unknown): { value: unknown } | { error: string; at?: number } {
  const scalar = (x: unknown) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
  if (fk.option.isBoolean()) {
    return typeof v === 'boolean' ? { value: v } : { error: `must be true or false, got ${describe(v)}` };
  }
  if (Array.isArray(v) && (fk.option.variadic || COMMA_LISTS.has(fk.attribute))) {
    const bad = v.findIndex((x) => !scalar(x));
    if (bad >= 0) return { error: `must be a string, got ${describe(v[bad])}`, at: bad };
    return { value: fk.option.variadic ? v.map(String) : v.map(String).join(',') };
  }
  if (scalar(v)) return { value: fk.option.variadic ? [String(v)] : String(v) };
  return {
    error: `must be ${COMMA_LISTS.has(fk.attribute) ? 'a string or a list' : 'a string'}, got ${describe(v)}`,
  };
}

/** The flag's own judgement of one text: its rule, else commander's choices or argument parser. */
function judge(fk: FileKey, text: string): { value: unknown } | { error: string } {
  const rule = serveValueRule(fk.attribute);
  try {
    if (rule) rule(text);
    if (fk.option.parseArg) {
      if (fk.option.argChoices && !fk.option.argChoices.includes(text))
        return { error: `must be one of ${fk.option.argChoices.join(', ')}, got ${JSON.stringify(text)}` };
      return { value: fk.option.parseArg(text, fk.option.defaultValue as unknown) };
    }
    return { value: text };
  } catch (err) {
    // A ValueError of our rules, or commander's InvalidArgumentError of an argument parser.
    if (err instanceof Error) return { error: err.message };
    throw err;
  }
}

function fileProblem(text: string): string | undefined {
  try {
    const st = statSync(text);
    return st.isDirectory() ? `${JSON.stringify(text)} is a directory, not a file` : undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `cannot read ${JSON.stringify(text)} (${code === 'ENOENT' ? 'no such file' : code})`;
  }
}

/** `retentionStream[0].period` as a path. */
export function pathOfText(text: string): ConfigPath {
  const path: (string | number)[] = [];
  for (const m of text.matchAll(/([^.[\]]+)|\[(\d+)\]/g))
    path.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return path;
}

/** The suggestion for an unknown top-level key, with what it is if it is a nested one. */
function suggestion(key: string, keys: ReadonlyMap<string, FileKey>, top: readonly string[]): string {
  const camel = camelOf(key);
  const nested = [...keys.keys()].find((k) => k.includes('.') && camelOf(k.replace('.', '-')) === camel);
  const known = nested ?? (top.includes(camel) ? camel : didYouMean(key, top));
  return known
    ? ` (did you mean ${JSON.stringify(known)}?)`
    : ' (each flag of `kjournal serve --help` is a key, in camelCase)';
}

export interface ReadOptions {
  /** Build the flows and outputs, and keep them (serve) or close them (config check). */
  readonly keepPipeline: boolean;
}

/** Reads and judges the text of serve's configuration file `file`. */
export async function readServeFile(
  text: string,
  file: string,
  cmd: Command,
  options: ReadOptions,
): Promise<ServeFile> {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: true });
  const errors: string[] = [];
  const values = new Map<string, unknown>();
  const keysSet = new Map<string, string>();
  const where = (key: string): string => {
    const at = locate(new ConfigError(pathOfText(key), ''), doc, lineCounter, file);
    return `${file}:${at.line}:${at.col}: `;
  };
  const result = (extra: Partial<ServeFile> = {}): ServeFile => ({
    values,
    keys: keysSet,
    retentionStreams: [],
    errors,
    where,
    ...extra,
  });
  const err = (path: ConfigPath, reason: string, onKey = false) =>
    errors.push(
      locate(new (onKey ? KeyConfigError : ConfigError)(path, reason), doc, lineCounter, file).message,
    );

  if (doc.errors.length > 0) {
    // A file that is not YAML: the pipeline's reader reports each syntax error with its place.
    const { errors: syntax } = parsePipelineConfigAll(text, file, { filters: {}, outputs: {} });
    errors.push(...syntax.map((e) => e.message));
    return result();
  }
  let top: unknown;
  try {
    top = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    errors.push(`${file}:1:1: not valid YAML: ${(e as Error).message}`);
    return result();
  }
  if (top === null || top === undefined) top = {};
  if (typeof top !== 'object' || Array.isArray(top)) {
    err([], `must be a mapping of settings, got ${describe(top)}`);
    return result();
  }
  const file_ = top as Record<string, unknown>;
  const keys = fileKeysOf(cmd);
  const topKeys = topLevelKeys(cmd);

  const setting = (fk: FileKey, v: unknown) => {
    if (v === null || v === undefined) return; // `key:` with no value: as if absent
    const form = flagForm(fk, v);
    if ('error' in form) return err(form.at === undefined ? fk.path : [...fk.path, form.at], form.error);
    const texts = Array.isArray(form.value) ? (form.value as string[]) : [form.value];
    let value = form.value;
    for (const t of texts) {
      if (typeof t !== 'string') continue;
      const judged = judge(fk, t);
      if ('error' in judged) return err(fk.path, judged.error);
      if (!Array.isArray(form.value)) value = judged.value;
      if (/<file>/.test(fk.option.flags) && !READ_ELSEWHERE.has(fk.attribute)) {
        const problem = fileProblem(t);
        if (problem) return err(fk.path, problem);
      }
    }
    values.set(fk.attribute, value);
    keysSet.set(fk.attribute, fk.key);
  };

  for (const [k, v] of Object.entries(file_)) {
    if ((FILE_ONLY as readonly string[]).includes(k)) continue;
    const fk = keys.get(k);
    if (fk) {
      setting(fk, v);
    } else if ((SECTIONS as readonly string[]).includes(k)) {
      if (v === null || v === undefined) continue;
      if (typeof v !== 'object' || Array.isArray(v)) {
        err([k], `must be a mapping, got ${describe(v)}`);
        continue;
      }
      const inSection = [...keys.values()].filter((x) => x.path[0] === k).map((x) => x.path[1]!);
      const known = [...inSection, ...(SECTION_ONLY[k] ?? [])];
      for (const [nk, nv] of Object.entries(v as Record<string, unknown>)) {
        const nested = keys.get(`${k}.${nk}`);
        if (nested) setting(nested, nv);
        else if (!(SECTION_ONLY[k] ?? []).includes(nk)) {
          const near = didYouMean(nk, known);
          err(
            [k, nk],
            `unknown field ${JSON.stringify(nk)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ` (known: ${known.join(', ')})`}`,
            true,
          );
        }
      }
    } else if (k === 'config') {
      err([k], 'unknown field "config": the file is given with --config, it names no other', true);
    } else {
      err([k], `unknown field ${JSON.stringify(k)}${suggestion(k, keys, topKeys)}`, true);
    }
  }

  const chSection = file_.clickhouse as Record<string, unknown> | null | undefined;
  const replicated = chSection && typeof chSection === 'object' ? chSection.replicated : undefined;
  if (replicated !== undefined && replicated !== null && typeof replicated !== 'boolean')
    err(['clickhouse', 'replicated'], `must be true or false, got ${describe(replicated)}`);

  // Per-stream retention: each rule judged on its own, so that every wrong one is reported.
  const retentionStreams: RetentionRule[] = [];
  const rs = file_.retentionStream;
  if (rs !== undefined && rs !== null && !Array.isArray(rs)) {
    err(['retentionStream'], 'must be a list of {selector, period, priority}');
  } else if (Array.isArray(rs)) {
    rs.forEach((rule, i) => {
      try {
        retentionStreams.push(...parseRetentionRules([rule], 'retentionStream'));
      } catch (e) {
        if (!(e instanceof RetentionConfigError)) throw e;
        const m = /^(\S+?): (.*)$/s.exec(e.message.replace(/^retentionStream\[0\]/, `retentionStream[${i}]`));
        if (m) err(pathOfText(m[1]!), m[2]!);
        else err(['retentionStream', i], e.message);
      }
    });
  }

  // The audit policy is read and judged as serve reads it (kube-apiserver's rules).
  const policy = values.get('auditPolicy');
  if (typeof policy === 'string') {
    try {
      await resolveAuditPolicy(policy);
    } catch (e) {
      if (!(e instanceof AuditPolicyError)) throw e;
      err(['auditPolicy'], e.message);
    }
  }

  const { FILTERS, OUTPUTS } = await import('../pipeline/registries.js');
  const built = parsePipelineConfigAll(text, file, { filters: FILTERS, outputs: OUTPUTS });
  errors.push(...built.errors.map((e) => e.message));
  let pipeline = built.config;
  if (pipeline && (errors.length > 0 || !options.keepPipeline)) {
    await closePipelineConfig(pipeline);
    if (errors.length > 0) pipeline = undefined;
  }
  // In the file's order: each line's errors where they are written.
  const at = (line: string) => {
    const m = /^.*?:(\d+):(\d+): /.exec(line.slice(file.length));
    return m ? Number(m[1]) * 1e6 + Number(m[2]) : 0;
  };
  errors.sort((a, b) => at(a) - at(b));
  return result({
    retentionStreams,
    ...(typeof replicated === 'boolean' ? { replicated } : {}),
    ...(pipeline ? { pipeline } : {}),
  });
}

/**
 * Sets the file's values on the command, for the options neither the command line nor the
 * environment gave (their source is 'default' or none): CLI > environment > file > default, the
 * order of kubectl, Loki and most tools. Commander records them with the source 'config'.
 */
export function applyFileValues(cmd: Command, values: ReadonlyMap<string, unknown>): void {
  for (const [attribute, value] of values) {
    const source = cmd.getOptionValueSource(attribute);
    if (source === undefined || source === 'default')
      cmd.setOptionValueWithSource(attribute, value, 'config');
  }
}
