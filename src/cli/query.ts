/**
 * @module `kjournal query`, in the spirit of Grafana's `logcli query`: LogQL over the Loki HTTP API
 * (`query_range`, paged in batches; `query` with `--instant`), live tailing over the `/tail`
 * WebSocket with `--follow`, and korrel8r log queries (`log:…`) through `/api/v1/korrel8r/logs`.
 * Also the helpers `labels` and `series` share: time flags, the client, JSON requests.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import WebSocket from 'ws';
import { KjournalClient, KORREL8R_PATH, serverMessage } from '../client/client.js';
import { credentialHeaders, resolveConnection, tlsOptions } from '../client/connection.js';
import { ClientError } from '../client/errors.js';
import { addConnectionOptions, type ConnectionFlags } from '../client/options.js';
import { parseDuration } from '../go/duration.js';
import { labelsKey } from '../model/labels-key.js';
import type { Labels } from '../model/record.js';
import { NS_PER_SECOND, nowNs, parseRfc3339Nano } from '../model/time.js';
import type { LabelMatcher } from '../store/store.js';
import { CliError, InterruptedError } from './errors.js';
import { palette, wantsColor } from './print/color.js';
import { commonLabels, subtractLabels } from './print/labels.js';
import { formatEntry, LOG_MODES, type LogEntry, labelsWidth, type OutputMode } from './print/logs.js';
import { formatSamples, samplesOf } from './print/metrics.js';
import { Printer } from './print/printer.js';
import type { Zone } from './print/time.js';
import { DEFAULT_SINCE, HINT_LOOKBACK_NS, hintOlder, noneFound, WINDOW_HELP } from './window.js';

export const QUERY_RANGE_PATH = '/loki/api/v1/query_range';
export const QUERY_PATH = '/loki/api/v1/query';
export const TAIL_PATH = '/loki/api/v1/tail';

// ---------------------------------------------------------------------------------------------
// Shared by query, labels and series.

export interface TimeFlags {
  since: string;
  from?: string;
  to?: string;
}

export interface CommonFlags extends ConnectionFlags {
  quiet?: boolean;
  /** -n: the namespace read through the cluster's namespaced path (query, labels, series). */
  namespace?: string;
  timezone: string;
  color?: boolean;
}

/**
 * A time flag: RFC 3339, `now`, a duration meaning that long ago (`2h`), or Unix seconds or
 * nanoseconds (as Loki's API takes them).
 */
export function parseTimeFlag(flag: string, text: string, now: bigint): bigint {
  const t = text.trim();
  if (t === 'now') return now;
  const rfc = parseRfc3339Nano(t);
  if (rfc !== undefined) return rfc;
  const d = parseDuration(t);
  if (d !== undefined && d >= 0n && t !== '0') return now - d;
  if (/^\d+$/.test(t)) {
    const n = BigInt(t);
    return n <= 10_000_000_000n ? n * NS_PER_SECOND : n;
  }
  throw new CliError(
    `${flag} must be an RFC 3339 time (2026-11-23T10:00:00Z), a duration ago (2h) or now, got ${JSON.stringify(text)}`,
    2,
  );
}

export interface Range {
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * `--from`/`--to`/`--since` as logcli combines them: to defaults to now, from to to minus since (the
 * one default window of src/cli/window.ts, 24h, where logcli's is 1h).
 */
export function resolveRange(flags: TimeFlags, now: bigint = nowNs()): Range {
  const since = parseDuration(flags.since);
  if (since === undefined || since <= 0n) {
    throw new CliError(`--since must be a duration such as 1h or 30m, got ${JSON.stringify(flags.since)}`, 2);
  }
  const end = flags.to !== undefined ? parseTimeFlag('--to', flags.to, now) : now;
  const start = flags.from !== undefined ? parseTimeFlag('--from', flags.from, now) : end - since;
  if (end < start) throw new CliError('--to must not be before --from', 2);
  return { start, end };
}

/** `--since`, `--from`, `--to`; `since` is the default window (src/cli/window.ts: one rule for all). */
export function addTimeOptions(cmd: Command, since: string = DEFAULT_SINCE): Command {
  return cmd
    .option(
      '--since <duration>',
      `how far back to look when --from is not given ${since === DEFAULT_SINCE ? WINDOW_HELP : ''}`.trimEnd(),
      since,
    )
    .option('--from <time>', 'start of the range: RFC 3339, a duration ago (2h), or now')
    .option('--to <time>', 'end of the range (default: now)');
}

export function addDisplayOptions(cmd: Command): Command {
  return cmd
    .option('-q, --quiet', 'print nothing but the results (no request URL, no common labels)')
    .option('-z, --timezone <zone>', 'print times in this zone: local or UTC', 'local')
    .option('--color', 'colour the output even when it is not a terminal')
    .option('--no-color', 'never colour the output (also NO_COLOR)');
}

export function parseZone(text: string): Zone {
  const z = text.toLowerCase();
  if (z === 'local' || z === 'utc') return z;
  throw new CliError(`--timezone must be local or UTC, got ${JSON.stringify(text)}`, 2);
}

export function nonNegativeInt(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('must be a non-negative integer');
  }
  return n;
}

export function positiveInt(text: string): number {
  const n = nonNegativeInt(text);
  if (n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/**
 * A client for the Loki API. Through kube-apiserver (a kubeconfig's server), reads of one namespace
 * (`namespace`: -n, or the one the query pins) take its namespaced path, which a user with rights in
 * that namespace only may use (see the README's "Through the cluster").
 */
export async function openClient(
  flags: ConnectionFlags & { verbose?: boolean },
  userAgent: string,
  namespace?: string,
): Promise<KjournalClient> {
  let conn = await resolveConnection(flags);
  if (namespace !== undefined && conn.lokiPrefix !== undefined) {
    conn = { ...conn, lokiNamespace: namespace };
    if (flags.verbose) {
      process.stderr.write(
        `kjournal: reads of namespace ${namespace} go through ${conn.server.href.replace(/\/+$/, '')}${conn.lokiPrefix}/namespaces/${namespace}/loki/api/v1\n`,
      );
    }
  }
  return new KjournalClient(conn, { userAgent, timeoutMs: 300_000 });
}

/** `-n, --namespace`: the namespace a command reads, for its namespaced path through the cluster. */
export function addNamespaceOption(cmd: Command): Command {
  return cmd.option(
    '-n, --namespace <ns>',
    'read through the namespaced path of the core.kjournal API (with a kubeconfig); default: the one namespace the query names, if it names one',
  );
}

/** -n, else the one namespace every selector of `queries` pins (LogQL that does not parse: none). */
export async function namespaceOf(
  flag: string | undefined,
  queries: readonly (string | undefined)[],
): Promise<string | undefined> {
  if (flag !== undefined && flag !== '') return flag;
  const [{ parseLogql }, { namespacesOfSelectors, selectorsOf }] = await Promise.all([
    import('../logql/parser.js'),
    import('../logql/namespaces.js'),
  ]);
  const selectors: (readonly LabelMatcher[])[] = [];
  for (const q of queries) {
    if (q === undefined || q.trim() === '' || q.trimStart().startsWith('log:')) return undefined;
    try {
      for (const s of selectorsOf(parseLogql(q))) selectors.push(s.matchers);
    } catch {
      return undefined;
    }
  }
  const pinned = selectors.length > 0 ? namespacesOfSelectors(selectors) : undefined;
  return pinned?.size === 1 ? [...pinned][0] : undefined;
}

/** Writes one notice to stderr, unless --quiet. */
export function notice(quiet: boolean | undefined, message: string): void {
  if (!quiet) process.stderr.write(`${message}\n`);
}

/**
 * GET `path` and parse its JSON; any failure is a one-line CliError: `<what>: HTTP 400: <server's
 * reason>`, `cannot reach <server>: <why>`, or a body that is not JSON.
 */
export async function getJson(
  client: KjournalClient,
  path: string,
  params: URLSearchParams,
  what: string,
  quiet?: boolean,
): Promise<unknown> {
  const url = client.url(path, params);
  notice(quiet, decodeURIComponent(url.href));
  let res: Awaited<ReturnType<KjournalClient['request']>>;
  try {
    res = await client.request('GET', path, { query: params, headers: { accept: 'application/json' } });
  } catch (err) {
    throw new CliError(`cannot reach ${client.connection.server.href}: ${(err as Error).message}`, 1, {
      cause: err instanceof ClientError ? err.cause : undefined,
    });
  }
  if (res.status < 200 || res.status >= 300) {
    const msg = serverMessage(res.body);
    throw new CliError(`${what} failed: HTTP ${res.status}${msg ? `: ${msg}` : ''}`);
  }
  try {
    return JSON.parse(res.body.toString('utf8')) as unknown;
  } catch {
    throw new CliError(`${what}: the server's answer is not JSON (HTTP ${res.status})`);
  }
}

/** The `data` of a Loki `{"status":"success","data":…}` answer. */
export function lokiData(body: unknown, what: string): unknown {
  if (body !== null && typeof body === 'object' && 'data' in body) return (body as { data: unknown }).data;
  throw new CliError(`${what}: the server's answer has no data`);
}

// ---------------------------------------------------------------------------------------------
// Loki streams to entries.

type RawValue = [string, string, Record<string, unknown>?];
interface RawStream {
  stream?: Labels;
  values?: RawValue[];
}

/** Structured metadata of a value: Loki's flat map, or its categorized `structuredMetadata`/`parsed`. */
function metadataOf(meta: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (meta === undefined || meta === null || typeof meta !== 'object') return undefined;
  const out: Record<string, string> = {};
  const categorized = 'structuredMetadata' in meta || 'parsed' in meta;
  const sources = categorized ? [meta.structuredMetadata, meta.parsed] : [meta];
  for (const src of sources) {
    if (src === null || typeof src !== 'object') continue;
    for (const [k, v] of Object.entries(src as Record<string, unknown>)) out[k] = String(v);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function entriesOf(streams: readonly RawStream[], common: Labels): LogEntry[] {
  const out: LogEntry[] = [];
  for (const s of streams) {
    const labels = s.stream ?? {};
    const shown = subtractLabels(labels, common);
    for (const v of s.values ?? []) {
      const metadata = metadataOf(v[2]);
      out.push({
        ts: BigInt(v[0]),
        labels,
        shown,
        line: v[1],
        ...(metadata !== undefined ? { metadata } : {}),
      });
    }
  }
  return out;
}

function sortEntries(entries: LogEntry[], forward: boolean): void {
  entries.sort((a, b) => {
    const d = a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0;
    return forward ? d : -d;
  });
}

// ---------------------------------------------------------------------------------------------
// The command.

interface QueryFlags extends CommonFlags, TimeFlags {
  limit: number;
  batch: number;
  forward?: boolean;
  step?: string;
  instant?: boolean;
  output: OutputMode;
  follow?: boolean;
  tail?: boolean;
  delayFor?: number;
  labels: boolean;
}

interface Ctx {
  readonly client: KjournalClient;
  readonly flags: QueryFlags;
  readonly query: string;
  readonly range: Range;
  /** The namespace read (-n, or the one the query pins), for "No resources found in NS namespace." */
  readonly namespace: string | undefined;
  readonly out: Printer;
  readonly fmt: {
    mode: Exclude<OutputMode, 'json'>;
    zone: Zone;
    colors: ReturnType<typeof palette>;
    noLabels: boolean;
  };
}

export function registerQuery(program: Command): void {
  const cmd = program
    .command('query')
    .description(
      'Run a LogQL query (log or metric) and print the results, like logcli; a query that starts with ' +
        '"log:" is a korrel8r log query',
    )
    .argument('<query>', 'LogQL, e.g. \'{namespace="shop"} |= "timeout"\', or a korrel8r query (log:…)');
  addTimeOptions(cmd)
    .option('--limit <n>', 'print at most this many entries (0: all of them)', nonNegativeInt, 30)
    .option('--batch <n>', 'entries per request when paging through more than that', positiveInt, 1000)
    .option('--forward', 'oldest entries first (default: newest first)')
    .option('--step <duration>', 'step between the points of a metric query over a range')
    .option('--instant', 'evaluate once, at --to (default: now), through /loki/api/v1/query')
    .addOption(
      new Option('-o, --output <mode>', 'output: default, raw (lines only), jsonl, json (whole answer), wide')
        .choices([...LOG_MODES])
        .default('default'),
    )
    .option(
      '-f, --follow',
      'keep printing new entries as they arrive (over /loki/api/v1/tail), until interrupted',
    )
    .addOption(new Option('-t, --tail', 'same as --follow').hideHelp())
    .option(
      '--delay-for <seconds>',
      'with --follow: let the server wait this long for late entries',
      nonNegativeInt,
    )
    .option('--no-labels', 'do not print labels');
  addDisplayOptions(cmd);
  addNamespaceOption(cmd);
  addConnectionOptions(cmd);
  cmd.action(async (query: string, flags: QueryFlags) => {
    if (query.trim() === '') throw new CliError('the query must not be empty', 2);
    const zone = parseZone(flags.timezone);
    const range = resolveRange(flags);
    if (
      flags.step !== undefined &&
      parseDuration(flags.step) === undefined &&
      !/^\d+(\.\d+)?$/.test(flags.step)
    ) {
      throw new CliError(`--step must be a duration such as 1m, got ${JSON.stringify(flags.step)}`, 2);
    }
    const follow = flags.follow === true || flags.tail === true;
    const korrel8r = query.trimStart().startsWith('log:');
    if (follow && korrel8r) throw new CliError('--follow works with LogQL queries, not korrel8r ones', 2);
    if (follow && flags.instant) throw new CliError('--follow and --instant cannot be used together', 2);
    if (follow && (await isMetricQuery(query)))
      throw new CliError('--follow needs a log query, not a metric query', 2);
    const namespace = await namespaceOf(flags.namespace, [query]);
    const client = await openClient(flags, 'kjournal-query', namespace);
    const out = new Printer();
    const mode = flags.output === 'json' ? 'default' : flags.output;
    const ctx: Ctx = {
      client,
      flags,
      query,
      range,
      namespace,
      out,
      fmt: { mode, zone, colors: palette(wantsColor(flags.color, process.stdout)), noLabels: !flags.labels },
    };
    try {
      if (korrel8r) await runKorrel8r(ctx);
      else if (follow) await runFollow(ctx);
      else if (flags.instant) await runInstant(ctx);
      else await runRange(ctx);
    } finally {
      client.close();
    }
  });
}

/**
 * True when the query parses as a LogQL metric query; a query that does not parse is left to the
 * server. The parser is loaded only here, for --follow: the other paths let the server parse.
 */
async function isMetricQuery(query: string): Promise<boolean> {
  const [{ parseLogql }, { isLogExpr }] = await Promise.all([
    import('../logql/parser.js'),
    import('../logql/ast.js'),
  ]);
  try {
    return !isLogExpr(parseLogql(query));
  } catch {
    return false;
  }
}

function baseParams(ctx: Ctx): URLSearchParams {
  const p = new URLSearchParams();
  p.set('query', ctx.query);
  return p;
}

async function printJson(ctx: Ctx, value: unknown): Promise<void> {
  await ctx.out.text(`${JSON.stringify(value, null, 2)}\n`);
}

async function printMetric(ctx: Ctx, data: { resultType?: string; result?: unknown }): Promise<void> {
  const samples = samplesOf(data.resultType ?? '', data.result);
  await ctx.out.lines(formatSamples(samples, ctx.fmt));
}

async function runInstant(ctx: Ctx): Promise<void> {
  const p = baseParams(ctx);
  if (ctx.flags.limit > 0) p.set('limit', String(ctx.flags.limit));
  p.set('time', String(ctx.range.end));
  p.set('direction', ctx.flags.forward ? 'forward' : 'backward');
  const body = await getJson(ctx.client, QUERY_PATH, p, 'query', ctx.flags.quiet);
  if (ctx.flags.output === 'json') return printJson(ctx, body);
  const data = lokiData(body, 'query') as { resultType?: string; result?: unknown };
  if (data.resultType === 'streams') {
    const streams = (data.result ?? []) as RawStream[];
    const common = announceCommon(ctx, streams);
    const entries = entriesOf(streams, common);
    sortEntries(entries, ctx.flags.forward === true);
    await ctx.out.lines(entries.map((e) => formatEntry(e, labelsWidth(entries, ctx.fmt.mode), ctx.fmt)));
    if (entries.length === 0) sayNoneFound(ctx);
    return;
  }
  await printMetric(ctx, data);
  if (samplesOf(data.resultType ?? '', data.result).length === 0) sayNoneFound(ctx);
}

/** "No resources found" on stderr, as `get` says it; not under -o json or jsonl (nor does kubectl). */
function sayNoneFound(ctx: Ctx): void {
  if (ctx.flags.output !== 'json' && ctx.flags.output !== 'jsonl') noneFound(ctx.namespace);
}

function announceCommon(ctx: Ctx, streams: readonly RawStream[]): Labels {
  const common = commonLabels(streams.map((s) => s.stream ?? {}));
  // A single stream's labels are all "common"; logcli says so and prints `{}` on every line.
  if (Object.keys(common).length > 0 && ctx.fmt.mode === 'default' && !ctx.fmt.noLabels) {
    notice(ctx.flags.quiet, `Common labels: ${ctx.fmt.colors.paint('red', labelsKey(common))}`);
  }
  return common;
}

/**
 * query_range, paged as logcli pages: each request asks for at most --batch entries; the next one
 * starts (forward) or ends (backward) at the last timestamp printed, and the entries of that
 * timestamp already printed are skipped, since several entries may share a timestamp.
 */
async function runRange(ctx: Ctx): Promise<void> {
  const { flags } = ctx;
  const unlimited = flags.limit === 0;
  const batch = unlimited ? flags.batch : Math.min(flags.batch, flags.limit);
  let start = ctx.range.start;
  let end = ctx.range.end;
  let total = 0;
  let common: Labels | undefined;
  let width = 0;
  let lastTs: bigint | undefined;
  let lastLines: string[] = [];
  const jsonPages: unknown[] = [];
  const jsonEntries: LogEntry[] = [];
  for (;;) {
    const remaining = unlimited ? batch : flags.limit - total;
    const size = Math.min(batch, remaining) + lastLines.length;
    const p = baseParams(ctx);
    p.set('limit', String(size));
    p.set('start', String(start));
    p.set('end', String(end));
    p.set('direction', flags.forward ? 'forward' : 'backward');
    if (flags.step !== undefined) p.set('step', flags.step);
    const body = await getJson(ctx.client, QUERY_RANGE_PATH, p, 'query', flags.quiet);
    const data = lokiData(body, 'query') as { resultType?: string; result?: unknown };
    if (data.resultType !== 'streams') {
      if (flags.output === 'json') await printJson(ctx, body);
      else {
        await printMetric(ctx, data);
        if (samplesOf(data.resultType ?? '', data.result).length === 0) sayNoneFound(ctx);
      }
      return;
    }
    const streams = (data.result ?? []) as RawStream[];
    if (flags.output !== 'json') {
      // Each page narrows what is common to every stream seen so far; a change is announced again.
      const pageCommon = commonLabels([...(common ? [common] : []), ...streams.map((s) => s.stream ?? {})]);
      if (common === undefined || Object.keys(pageCommon).length !== Object.keys(common).length) {
        announceCommon(ctx, [{ stream: pageCommon }]);
      }
      common = pageCommon;
    }
    const entries = entriesOf(streams, common ?? {});
    sortEntries(entries, flags.forward === true);
    const fresh = entries.filter((e) => !(e.ts === lastTs && lastLines.includes(e.line)));
    const take = unlimited ? fresh : fresh.slice(0, flags.limit - total);
    if (flags.output === 'json') {
      jsonPages.push(body);
      jsonEntries.push(...take);
    } else {
      width = labelsWidth(take, ctx.fmt.mode, width);
      await ctx.out.lines(take.map((e) => formatEntry(e, width, ctx.fmt)));
    }
    total += take.length;
    const last = entries[entries.length - 1];
    // Done: the limit is reached, the server had no more than was asked for, or nothing new came.
    if (last === undefined || take.length === 0 || entries.length < size || ctx.out.gone) break;
    if (!unlimited && total >= flags.limit) break;
    // The next request asks for as many more entries as the overlap it will repeat, so it always progresses.
    const atLast = entries.filter((e) => e.ts === last.ts).map((e) => e.line);
    lastLines = last.ts === lastTs ? [...new Set([...lastLines, ...atLast])] : atLast;
    lastTs = last.ts;
    if (flags.forward) start = last.ts;
    else end = last.ts;
  }
  if (flags.output === 'json') {
    // One page: the server's answer as it is. Several: one answer with every entry printed.
    await printJson(ctx, jsonPages.length === 1 ? jsonPages[0] : mergedStreams(jsonEntries));
  } else if (total === 0) {
    sayNoneFound(ctx);
    // The window is --since back from now: say when the newest older line of the query is.
    if (flags.from === undefined && flags.to === undefined) {
      const selector = await streamSelectorOf(ctx.query);
      if (selector !== undefined) {
        await hintOlder(
          'lines',
          ctx.range.start,
          ctx.range.end,
          () => newestBefore(ctx, selector),
          selector === ctx.query.trim() ? undefined : selector,
        );
      }
    }
  }
}

/**
 * The stream selector of a log query, which the hint probes: the streams alone, never the line
 * filters and parsers, so that a probe is a read of the catalog and one entry, not a scan of a year
 * of lines (a filter that matches nothing would read them all). The query itself when it is only a
 * selector; undefined for a query that does not parse.
 */
async function streamSelectorOf(query: string): Promise<string | undefined> {
  const [{ parseLogql }, { isLogExpr }, { formatMatchers }] = await Promise.all([
    import('../logql/parser.js'),
    import('../logql/ast.js'),
    import('../logql/format.js'),
  ]);
  try {
    const expr = parseLogql(query);
    if (!isLogExpr(expr)) return undefined;
    const selector = `{${formatMatchers(expr.matchers)}}`;
    return expr.pipeline.length === 0 ? query.trim() : selector;
  } catch {
    return undefined;
  }
}

/** Longest range one probe asks for: within the server's --max-query-length (721h, Loki's). */
const PROBE_SPAN = 720n * 3600n * NS_PER_SECOND;

/**
 * The newest entry of the query before the window, if any within a year: backward query_range
 * requests of one entry, a month at a time going back (each within the server's longest range).
 */
async function newestBefore(ctx: Ctx, selector: string): Promise<{ from: bigint; to: bigint } | undefined> {
  const oldest = ctx.range.end - HINT_LOOKBACK_NS;
  let to = ctx.range.start;
  while (to > oldest) {
    const from = to - PROBE_SPAN > oldest ? to - PROBE_SPAN : oldest;
    const p = new URLSearchParams({ query: selector });
    p.set('limit', '1');
    p.set('start', String(from));
    p.set('end', String(to));
    p.set('direction', 'backward');
    const data = lokiData(await getJson(ctx.client, QUERY_RANGE_PATH, p, 'query', true), 'query') as {
      result?: RawStream[];
    };
    let newest: bigint | undefined;
    for (const s of data.result ?? [])
      for (const v of s.values ?? []) {
        const ts = BigInt(v[0]);
        if (ts < to && (newest === undefined || ts > newest)) newest = ts;
      }
    if (newest !== undefined) return { from: newest, to: newest };
    to = from;
  }
  return undefined;
}

function mergedStreams(entries: readonly LogEntry[]): unknown {
  const byStream = new Map<string, { stream: Labels; values: unknown[] }>();
  for (const e of entries) {
    const key = labelsKey(e.labels);
    let s = byStream.get(key);
    if (s === undefined) {
      s = { stream: e.labels, values: [] };
      byStream.set(key, s);
    }
    s.values.push(e.metadata ? [String(e.ts), e.line, e.metadata] : [String(e.ts), e.line]);
  }
  return { status: 'success', data: { resultType: 'streams', result: [...byStream.values()] } };
}

// ---------------------------------------------------------------------------------------------
// korrel8r: `log:<class>:<selector>` through the server's korrel8r endpoint.

/** What the server answers: string attributes, `body`, `timestamp` and `observed_timestamp`. */
interface Korrel8rLog {
  body?: unknown;
  timestamp?: unknown;
  [attribute: string]: unknown;
}

function korrel8rTime(v: unknown): bigint {
  if (typeof v === 'string') {
    const rfc = parseRfc3339Nano(v);
    if (rfc !== undefined) return rfc;
    if (/^\d+$/.test(v)) return BigInt(v);
  }
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.round(v));
  return 0n;
}

async function runKorrel8r(ctx: Ctx): Promise<void> {
  const { flags } = ctx;
  const p = new URLSearchParams();
  p.set('query', ctx.query.trim());
  p.set('start', String(ctx.range.start));
  p.set('end', String(ctx.range.end));
  if (flags.limit > 0) p.set('limit', String(flags.limit));
  const body = await getJson(ctx.client, KORREL8R_PATH, p, 'korrel8r query', flags.quiet);
  if (!Array.isArray(body)) throw new CliError('korrel8r query: the server did not answer a list of logs');
  const logs = (body as unknown[]).filter((l): l is Korrel8rLog => l !== null && typeof l === 'object');
  if (flags.output === 'json') return printJson(ctx, flags.limit > 0 ? logs.slice(0, flags.limit) : logs);
  const attrs = logs.map((l) => {
    const a: Labels = {};
    for (const [k, v] of Object.entries(l)) {
      if (k === 'body' || k === 'timestamp' || k === 'observed_timestamp') continue;
      if (v === null || typeof v === 'object') continue;
      a[k] = String(v);
    }
    return a;
  });
  const common = commonLabels(attrs);
  if (Object.keys(common).length > 0 && flags.output === 'default' && flags.labels) {
    notice(flags.quiet, `Common labels: ${ctx.fmt.colors.paint('red', labelsKey(common))}`);
  }
  const entries = logs.map((l, i) => ({
    log: l,
    entry: {
      ts: korrel8rTime(l.timestamp),
      labels: attrs[i] ?? {},
      shown: subtractLabels(attrs[i] ?? {}, common),
      line: typeof l.body === 'string' ? l.body : JSON.stringify(l.body ?? ''),
    } satisfies LogEntry,
  }));
  entries.sort((a, b) => {
    const d = a.entry.ts < b.entry.ts ? -1 : a.entry.ts > b.entry.ts ? 1 : 0;
    return flags.forward ? d : -d;
  });
  const shown = flags.limit > 0 ? entries.slice(0, flags.limit) : entries;
  if (shown.length === 0) sayNoneFound(ctx);
  if (flags.output === 'jsonl') {
    await ctx.out.lines(shown.map((e) => JSON.stringify(e.log)));
    return;
  }
  const width = labelsWidth(
    shown.map((e) => e.entry),
    ctx.fmt.mode,
  );
  await ctx.out.lines(shown.map((e) => formatEntry(e.entry, width, ctx.fmt)));
}

// ---------------------------------------------------------------------------------------------
// --follow: Loki's tail WebSocket.

interface TailFrame {
  streams?: RawStream[];
  dropped_entries?: { labels?: Labels; timestamp?: string }[] | null;
}

async function runFollow(ctx: Ctx): Promise<void> {
  const { flags, client } = ctx;
  const p = baseParams(ctx);
  if (flags.limit > 0) p.set('limit', String(flags.limit));
  p.set('start', String(ctx.range.start));
  if (flags.delayFor !== undefined) p.set('delay_for', String(flags.delayFor));
  const url = client.url(TAIL_PATH, p);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  notice(flags.quiet, decodeURIComponent(url.href));
  const c = client.connection;
  const ws = new WebSocket(url, {
    headers: { 'user-agent': 'kjournal-query', ...credentialHeaders(c) },
    ...tlsOptions(c),
  });
  let width = 0;
  // Frames are printed in order, each after the previous one's write has drained.
  let chain = Promise.resolve();
  const print = (frame: TailFrame): Promise<void> => {
    if (frame.dropped_entries && frame.dropped_entries.length > 0) {
      process.stderr.write(
        `kjournal: the server dropped ${frame.dropped_entries.length} entries: this client is too slow\n`,
      );
    }
    if (flags.output === 'json') return ctx.out.text(`${JSON.stringify(frame)}\n`);
    const entries = entriesOf(frame.streams ?? [], {});
    sortEntries(entries, true);
    width = labelsWidth(entries, ctx.fmt.mode, width);
    return ctx.out.lines(entries.map((e) => formatEntry(e, width, ctx.fmt)));
  };
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      chain.then(() => (err ? reject(err) : resolve()), reject);
    };
    // Interrupted: what was received is printed, then the exit code says the signal (130, 143).
    const onSignal = (signal: NodeJS.Signals): void => {
      ws.close(1000);
      finish(new InterruptedError(signal));
    };
    const stop = (): void => {
      ws.close(1000);
      finish();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const msg = serverMessage(Buffer.concat(chunks));
        finish(new CliError(`tail failed: HTTP ${res.statusCode}${msg ? `: ${msg}` : ''}`));
        ws.terminate();
      });
    });
    ws.on('error', (err) => finish(new CliError(`cannot tail from ${c.server.href}: ${err.message}`)));
    ws.on('message', (data) => {
      let frame: TailFrame;
      try {
        frame = JSON.parse(data.toString()) as TailFrame;
      } catch {
        finish(new CliError('tail: the server sent a frame that is not JSON'));
        ws.terminate();
        return;
      }
      chain = chain.then(() => print(frame));
      if (ctx.out.gone) stop();
    });
    ws.on('close', (code, reason) => {
      if (code === 1000 || code === 1005) finish();
      else
        finish(
          new CliError(`tail closed by the server: ${code}${reason.length ? ` ${reason.toString()}` : ''}`),
        );
    });
  });
}
