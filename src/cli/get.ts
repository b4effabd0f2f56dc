/**
 * @module `kjournal get RESOURCE [NAME]`, kubectl's `get` for the core.kjournal API: ContainerLogs,
 * Events, AuditEvents and Logs by plural, singular, kind or short name; `-n`/`-A`, `-l`,
 * `--field-selector`, `--since`/`--until` (time field selectors), paging through `continue`
 * (streamed page by page), `-o table|wide|json|yaml|name|jsonl`, and `-w` (list, then watch from the
 * list's resourceVersion; list again on 410 Expired). Tables are the server's (meta.k8s.io/v1
 * Table), aligned as kubectl aligns them. Also the list/watch loop the shortcuts share.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import {
  contextNamespace,
  findResource,
  KubeClient,
  type ListOptions,
  type WatchEvent,
} from '../client/kube.js';
import { addConnectionOptions, type ConnectionFlags } from '../client/options.js';
import { parseDuration } from '../go/duration.js';
import type { KubeResource } from '../kube/resources.js';
import { formatRfc3339Nano, nowNs } from '../model/time.js';
import { CliError, InterruptedError } from './errors.js';
import { Printer } from './print/printer.js';
import { nonNegativeInt, parseTimeFlag, positiveInt } from './query.js';
import { DEFAULT_SINCE, findNewest, hintOlder, noneFound, WINDOW_HELP } from './window.js';

type Obj = Record<string, unknown>;

export const OUTPUTS = ['table', 'wide', 'json', 'yaml', 'name', 'jsonl'] as const;
export type GetOutput = (typeof OUTPUTS)[number];

export interface ListTargetFlags extends ConnectionFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  fieldSelector?: string;
  since?: string;
  until?: string;
  limit: number;
  chunkSize: number;
  watch?: boolean;
}

interface GetFlags extends ListTargetFlags {
  output: GetOutput;
  headers: boolean;
}

/**
 * `-n`, `-A`, `-l`, `--field-selector`, `--since`, `--until`, `--limit`, `--chunk-size`, `-w`.
 * `--since` defaults to the one window of every reading command (src/cli/window.ts), sent as a time
 * field selector: the server's own default (`--kube-list-window`) is the same 24 hours, but a server
 * configured otherwise does not change what the CLI shows.
 */
export function addListTargetOptions(cmd: Command): Command {
  return cmd
    .option('-n, --namespace <ns>', "namespace (default: the kubeconfig context's, else default)")
    .option('-A, --all-namespaces', 'all namespaces')
    .option('-l, --selector <selector>', 'label selector (app=web,tier!=db)')
    .option('--field-selector <selector>', 'field selector (pod=web-1,stream=stderr)')
    .option('--since <time>', `from this long ago (2h) or this time (RFC 3339) ${WINDOW_HELP}`, DEFAULT_SINCE)
    .option('--until <time>', 'up to this long ago (10m) or this time (RFC 3339)')
    .option('--limit <n>', 'print at most this many objects (0: all)', nonNegativeInt, 0)
    .option('--chunk-size <n>', 'objects per request while paging through continue', positiveInt, 500)
    .option('-w, --watch', 'after listing, watch for new objects');
}

/** What `kjournal get` lists: one resource, a namespace (or all), label and field selectors. */
export interface ListTarget {
  readonly resource: KubeResource;
  /** undefined: every namespace (or a cluster-scoped resource). */
  readonly namespace: string | undefined;
  readonly allNamespaces: boolean;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** The field selector without the time bounds of --since/--until, for the probe of older data. */
  readonly untimedFieldSelector?: string;
  /** The window start when --since is a duration ago and --until is not given (the hint's case). */
  readonly sinceWindow?: { readonly start: bigint; readonly now: bigint };
}

/** The namespace and selectors the flags ask for, with extra field requirements of a shortcut. */
export function listTargetOf(
  resource: KubeResource,
  flags: ListTargetFlags,
  extraFields: readonly string[] = [],
): ListTarget {
  if (flags.allNamespaces && flags.namespace !== undefined) {
    throw new CliError('--namespace and --all-namespaces cannot be used together', 2);
  }
  const all = flags.allNamespaces === true;
  const namespace =
    !resource.namespaced || all ? undefined : (flags.namespace ?? contextNamespace(flags) ?? 'default');
  const fields: string[] = [];
  if (flags.fieldSelector) fields.push(flags.fieldSelector);
  fields.push(...extraFields);
  const untimed = fields.join(',');
  const now = nowNs();
  let sinceWindow: ListTarget['sinceWindow'];
  if (flags.since !== undefined) {
    const start = parseTimeFlag('--since', flags.since, now);
    fields.push(`metadata.creationTimestamp>=${formatRfc3339Nano(start)}`);
    if (flags.until === undefined && parseDuration(flags.since.trim()) !== undefined)
      sinceWindow = { start, now };
  }
  if (flags.until !== undefined) {
    fields.push(
      `metadata.creationTimestamp<=${formatRfc3339Nano(parseTimeFlag('--until', flags.until, now))}`,
    );
  }
  return {
    resource,
    namespace,
    allNamespaces: all && resource.namespaced,
    ...(flags.selector ? { labelSelector: flags.selector } : {}),
    ...(fields.length > 0 ? { fieldSelector: fields.join(',') } : {}),
    ...(untimed !== '' ? { untimedFieldSelector: untimed } : {}),
    ...(sinceWindow ? { sinceWindow } : {}),
  };
}

/**
 * After an empty list read over the last --since: when the same selection has older objects (within
 * a year), one line on stderr says when the newest is and which --since reaches it. The lists read
 * oldest first, so the newest is found by probes of one object over narrowing ranges (window.ts);
 * `keep` is a filter the command applies itself (pods' regular expressions), which a probe applies
 * to at most a few pages.
 */
export async function hintOlderObjects(
  client: KubeClient,
  sel: ListTarget,
  what: string,
  keep: (obj: Obj) => boolean = () => true,
): Promise<void> {
  const w = sel.sinceWindow;
  if (w === undefined) return;
  const PAGE = 100;
  const MAX_PAGES = 5;
  const exists = async (from: bigint, to: bigint): Promise<boolean> => {
    const fieldSelector = [
      sel.untimedFieldSelector,
      `metadata.creationTimestamp>=${formatRfc3339Nano(from)}`,
      `metadata.creationTimestamp<${formatRfc3339Nano(to)}`,
    ]
      .filter(Boolean)
      .join(',');
    let token: string | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      const page = await client.list(sel.resource, {
        ...listOptions({ ...sel, fieldSelector }, false),
        limit: PAGE,
        ...(token ? { continue: token } : {}),
      });
      if (itemsOf(page.body).some(keep)) return true;
      token = page.metadata.continue;
      if (!token) return false;
    }
    return false;
  };
  await hintOlder(what, w.start, w.now, () => findNewest(exists, w.start, w.now));
}

/** Escapes a value for a field selector. */
export function fieldValueText(v: string): string {
  return v.replace(/[\\,=!<>]/g, (c) => `\\${c}`);
}

/** What the list/watch loop tells its printer. */
export interface Sink {
  /** A page of a list: objects, or a Table. */
  page(body: Obj): Promise<void>;
  /** An ADDED object (or a Table of one row) from the watch. */
  added(object: Obj): Promise<void>;
}

const listOptions = (sel: ListTarget, table: boolean): ListOptions => ({
  ...(sel.namespace !== undefined ? { namespace: sel.namespace } : {}),
  ...(sel.labelSelector !== undefined ? { labelSelector: sel.labelSelector } : {}),
  ...(sel.fieldSelector !== undefined ? { fieldSelector: sel.fieldSelector } : {}),
  table,
});

function itemsOf(body: Obj): Obj[] {
  if (Array.isArray(body.rows)) return body.rows as Obj[];
  return Array.isArray(body.items) ? (body.items as Obj[]) : [];
}

function rvOf(item: Obj): bigint {
  const md = ((item.object as Obj | undefined)?.metadata ?? item.metadata) as Obj | undefined;
  const rv = md?.resourceVersion;
  return typeof rv === 'string' && /^\d+$/.test(rv) ? BigInt(rv) : 0n;
}

/**
 * Lists every page (at most `limit` items when > 0), telling `sink`; returns the list's
 * resourceVersion and how many items were printed. `after`: skip items not newer than it (re-list).
 */
export async function listAll(
  client: KubeClient,
  sel: ListTarget,
  o: { table: boolean; limit: number; chunkSize: number; after?: bigint; out: Printer },
  sink: Sink,
): Promise<{ resourceVersion: string; count: number }> {
  let token: string | undefined;
  let rv = '';
  let count = 0;
  for (;;) {
    const page = await client.list(sel.resource, {
      ...listOptions(sel, o.table),
      limit: o.chunkSize,
      ...(token ? { continue: token } : {}),
    });
    if (rv === '') rv = page.metadata.resourceVersion ?? '';
    let items = itemsOf(page.body);
    if (o.after !== undefined) items = items.filter((i) => rvOf(i) > (o.after ?? 0n));
    if (o.limit > 0 && count + items.length > o.limit) items = items.slice(0, o.limit - count);
    count += items.length;
    const body = Array.isArray(page.body.rows) ? { ...page.body, rows: items } : { ...page.body, items };
    await sink.page(body);
    token = page.metadata.continue;
    if (!token || (o.limit > 0 && count >= o.limit) || o.out.gone) break;
  }
  return { resourceVersion: rv, count };
}

/**
 * Aborted on SIGINT or SIGTERM, for a watch that ends cleanly when interrupted: what was received is
 * printed, then `check()` throws the InterruptedError whose exit code says the signal (130, 143).
 */
export function interruptSignal(): { signal: AbortSignal; dispose(): void; check(): void } {
  const ac = new AbortController();
  let received: NodeJS.Signals | undefined;
  const on = (sig: NodeJS.Signals): void => {
    received ??= sig;
    ac.abort();
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ac.signal,
    check: () => {
      if (received !== undefined) throw new InterruptedError(received);
    },
    dispose: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

/**
 * Watches from `resourceVersion` until interrupted: ADDED objects go to `sink`, bookmarks move the
 * version, a 410 (Expired/Gone) lists again (printing only what is newer) and watches from there; a
 * stream the server ends is resumed from the last version seen.
 */
export async function watchLoop(
  client: KubeClient,
  sel: ListTarget,
  o: { table: boolean; chunkSize: number; resourceVersion: string; out: Printer },
  sink: Sink,
): Promise<void> {
  const { signal, dispose, check } = interruptSignal();
  let rv = o.resourceVersion;
  try {
    while (!signal.aborted && !o.out.gone) {
      let expired = false;
      const started = Date.now();
      await client.watch(
        sel.resource,
        { ...listOptions(sel, o.table), resourceVersion: rv },
        async (e: WatchEvent) => {
          const obj = e.object ?? {};
          if (e.type === 'ERROR') {
            const code = obj.code;
            if (code === 410 || obj.reason === 'Expired' || obj.reason === 'Gone') {
              expired = true;
              return;
            }
            throw new CliError(
              `Error from server (${String(obj.reason ?? 'Unknown')}): ${String(obj.message ?? '')}`,
            );
          }
          const v = e.type === 'BOOKMARK' ? (obj.metadata as Obj | undefined)?.resourceVersion : undefined;
          if (typeof v === 'string') rv = v;
          if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
          const items = itemsOf(obj);
          const last = Array.isArray(obj.rows) ? items.at(-1) : obj;
          if (last) {
            const n = rvOf(last);
            if (n > 0n) rv = String(n);
          }
          await sink.added(obj);
        },
        signal,
      );
      if (!expired && !signal.aborted && Date.now() - started < 1000) {
        // The server ended the stream at once: do not spin; resume in a moment.
        await sleep(1000, undefined, { signal }).catch(() => undefined);
      }
      if (expired && !signal.aborted) {
        const listed = await listAll(client, sel, { ...o, limit: 0, after: BigInt(rv || '0') }, sink);
        rv = listed.resourceVersion;
      }
    }
  } finally {
    dispose();
  }
  check();
}

// ---------------------------------------------------------------------------------------------
// Printers.

/** Columns aligned as kubectl's tabwriter aligns them: three spaces between, widths only grow. */
export class TablePrinter {
  private widths: number[] = [];
  private columns: { name: string; index: number }[] | undefined;
  private printed = 0;
  private header: string[] | undefined;

  constructor(
    private readonly out: Printer,
    private readonly opts: { wide: boolean; headers: boolean; namespaceColumn: boolean },
  ) {}

  get count(): number {
    return this.printed;
  }

  async table(body: Obj): Promise<void> {
    const defs = body.columnDefinitions as { name: string; priority?: number }[] | undefined;
    const lines: string[][] = [];
    if (this.columns === undefined && defs) {
      this.columns = defs
        .map((d, index) => ({ name: d.name, index, priority: d.priority ?? 0 }))
        .filter((c) => this.opts.wide || c.priority === 0);
      const header = this.columns.map((c) => c.name.toUpperCase());
      if (this.opts.namespaceColumn) header.unshift('NAMESPACE');
      this.header = header;
      this.grow(header);
    }
    const columns = this.columns ?? [];
    const rows = itemsOf(body);
    // As kubectl: no header over nothing; it comes with the first row (maybe from the watch).
    if (rows.length > 0 && this.header !== undefined) {
      if (this.opts.headers) lines.push(this.header);
      this.header = undefined;
    }
    for (const row of rows) {
      const cells = (row.cells as unknown[] | undefined) ?? [];
      const line = columns.map((c) => cellText(cells[c.index]));
      if (this.opts.namespaceColumn) {
        const md = (row.object as Obj | undefined)?.metadata as Obj | undefined;
        line.unshift(typeof md?.namespace === 'string' ? md.namespace : '');
      }
      lines.push(line);
      this.printed++;
    }
    for (const l of lines) this.grow(l);
    await this.out.lines(lines.map((l) => this.format(l)));
  }

  private grow(cells: readonly string[]): void {
    cells.forEach((c, i) => {
      this.widths[i] = Math.max(this.widths[i] ?? 0, c.length);
    });
  }

  private format(cells: readonly string[]): string {
    return cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(this.widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  }
}

function cellText(v: unknown): string {
  if (v === undefined || v === null) return '<none>';
  if (typeof v === 'string') return v === '' ? '<none>' : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

const indent = (text: string, pad: string): string =>
  text
    .split('\n')
    .map((l) => (l === '' ? l : pad + l))
    .join('\n');

/** Prints objects as json (a List, streamed), yaml (a List), name or jsonl; one by one when watching. */
export class ObjectPrinter {
  private listed = 0;

  constructor(
    private readonly out: Printer,
    private readonly format: Exclude<GetOutput, 'table' | 'wide'>,
    private readonly resource: KubeResource,
  ) {}

  get count(): number {
    return this.listed;
  }

  /** Items of a list page, as part of one List. */
  async listItems(items: readonly Obj[]): Promise<void> {
    const parts: string[] = [];
    for (const item of items) {
      switch (this.format) {
        case 'json':
          parts.push(
            `${this.listed > 0 ? ',\n' : '{\n    "apiVersion": "v1",\n    "items": [\n'}${indent(JSON.stringify(item, null, 4), '        ')}`,
          );
          break;
        case 'yaml':
          parts.push(
            `${this.listed > 0 ? '' : 'apiVersion: v1\nitems:\n'}${indent(toYaml(item).trimEnd(), '  ').replace(/^ {2}/, '- ')}\n`,
          );
          break;
        default:
          parts.push(this.single(item));
      }
      this.listed++;
    }
    await this.out.text(parts.join(''));
  }

  /** Closes the List (json, yaml). */
  async endList(): Promise<void> {
    if (this.format === 'json') {
      const head = this.listed > 0 ? '\n    ],\n' : '{\n    "apiVersion": "v1",\n    "items": [],\n';
      await this.out.text(
        `${head}    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n`,
      );
    } else if (this.format === 'yaml') {
      await this.out.text(
        `${this.listed > 0 ? '' : 'apiVersion: v1\nitems: []\n'}kind: List\nmetadata:\n  resourceVersion: ""\n`,
      );
    }
  }

  /** One object on its own (get NAME, or a watch event). */
  async object(obj: Obj): Promise<void> {
    await this.out.text(this.single(obj));
  }

  private single(obj: Obj): string {
    switch (this.format) {
      case 'json':
        return `${JSON.stringify(obj, null, 4)}\n`;
      case 'yaml':
        return `---\n${toYaml(obj)}`;
      case 'jsonl':
        return `${JSON.stringify(obj)}\n`;
      case 'name': {
        const md = obj.metadata as Obj | undefined;
        return `${this.resource.singular}.core.kjournal/${String(md?.name ?? '')}\n`;
      }
    }
  }
}

function parseOutput(text: string): GetOutput {
  if ((OUTPUTS as readonly string[]).includes(text)) return text as GetOutput;
  // A CliError, not commander's: one `kjournal: …` line from main.ts.
  throw new CliError(`--output must be one of ${OUTPUTS.join(', ')}, got ${JSON.stringify(text)}`, 2);
}

export function addOutputOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('-o, --output <format>', `output format: ${OUTPUTS.join(', ')}`)
        .default('table')
        .argParser(parseOutput),
    )
    .option('--no-headers', 'print no header line in tables');
}

/** Lists (and with -w watches) a selection and prints it as `-o` says; `get` and the shortcuts use it. */
export async function runGet(
  sel: ListTarget,
  name: string | undefined,
  flags: ListTargetFlags & { output: GetOutput; headers: boolean },
): Promise<void> {
  const client = await KubeClient.open(flags);
  const out = new Printer();
  try {
    const tableMode = flags.output === 'table' || flags.output === 'wide';
    const tp = tableMode
      ? new TablePrinter(out, {
          wide: flags.output === 'wide',
          headers: flags.headers,
          namespaceColumn: sel.allNamespaces,
        })
      : undefined;
    const op = tableMode
      ? undefined
      : new ObjectPrinter(out, flags.output as Exclude<GetOutput, 'table' | 'wide'>, sel.resource);
    if (name !== undefined && sel.allNamespaces) {
      throw new CliError('a resource cannot be retrieved by name across all namespaces', 2);
    }
    if (name !== undefined && !flags.watch) {
      const obj = await client.get(sel.resource, sel.namespace, name, tableMode);
      if (tp) await tp.table(obj);
      else await op?.object(obj);
      return;
    }
    const s: ListTarget =
      name !== undefined
        ? {
            ...sel,
            fieldSelector: [sel.fieldSelector, `metadata.name=${fieldValueText(name)}`]
              .filter(Boolean)
              .join(','),
          }
        : sel;
    let watching = false;
    const sink: Sink = {
      page: async (body) => {
        if (tp) await tp.table(body);
        else if (watching) for (const item of itemsOf(body)) await op?.object(item);
        else await op?.listItems(itemsOf(body));
      },
      added: async (obj) => {
        if (tp) await tp.table(obj);
        else await op?.object(obj);
      },
    };
    const listed = await listAll(
      client,
      s,
      { table: tableMode, limit: flags.limit, chunkSize: flags.chunkSize, out },
      sink,
    );
    if (!flags.watch) {
      if (op && (flags.output === 'json' || flags.output === 'yaml')) await op.endList();
      if (listed.count === 0 && (tableMode || flags.output === 'name')) {
        noneFound(s.namespace);
        await hintOlderObjects(client, s, sel.resource.name);
      }
      return;
    }
    watching = true;
    await watchLoop(
      client,
      s,
      { table: tableMode, chunkSize: flags.chunkSize, resourceVersion: listed.resourceVersion, out },
      sink,
    );
  } finally {
    client.close();
  }
}

export function registerGet(program: Command): void {
  const cmd = program
    .command('get')
    .description(
      'Display ContainerLogs, Events, AuditEvents or Logs of the core.kjournal API, like kubectl get ' +
        '(names: plural, singular, kind, or clog, kev, kaudit)',
    )
    .argument('<resource>', 'containerlogs (clog), events (kev), auditevents (kaudit) or logs')
    .argument('[name]', 'one object by name');
  addListTargetOptions(cmd);
  addOutputOptions(cmd);
  addConnectionOptions(cmd).action(
    async (resourceText: string, name: string | undefined, flags: GetFlags) => {
      const resource = findResource(resourceText);
      await runGet(listTargetOf(resource, flags), name, flags);
    },
  );
}
