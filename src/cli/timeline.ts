/**
 * @module `kjournal timeline TYPE/NAME [-n NS] [--since 2d]`: one object's story from the
 * `core.kjournal/v1alpha1` API, as the web page's timeline shows it: its container logs (a Pod) or
 * node logs (a Node), the Events about it and the audit events that named it, merged oldest first,
 * each line marked `log`, `event` or `audit`. Which lists and how they merge is src/kube/timeline.ts.
 * A list the user may not read (403) is said on stderr and the others are printed; when none can be
 * read, the first refusal is the error.
 */
import type { Command } from 'commander';
import { ClientError } from '../client/errors.js';
import { contextNamespace, findResource, KubeClient } from '../client/kube.js';
import { addConnectionOptions, type ConnectionFlags } from '../client/options.js';
import { parseDuration } from '../go/duration.js';
import {
  formatObjectRef,
  mergeTimeline,
  ObjectRefError,
  parseObjectRef,
  type TimelineItem,
  type TimelineObject,
  timelineSources,
} from '../kube/timeline.js';
import { formatRfc3339Nano, nowNs } from '../model/time.js';
import { CliError } from './errors.js';
import { palette, wantsColor } from './print/color.js';
import { Printer } from './print/printer.js';
import { parseTimeFlag } from './query.js';
import { DEFAULT_SINCE, findNewest, hintOlder, noneFound, WINDOW_HELP } from './window.js';

interface TimelineFlags extends ConnectionFlags {
  namespace?: string;
  since: string;
  until?: string;
  output: 'text' | 'json';
  color?: boolean;
}

const MARK_COLOURS = { log: 'cyan', event: 'yellow', audit: 'magenta' } as const;
/** Objects one list may return, in pages of PAGE. */
const MAX_ITEMS = 20_000;
const PAGE = 1000;

export function registerTimeline(program: Command): void {
  const cmd = program
    .command('timeline')
    .description(
      "one object's story: its container logs, the Events about it and the audit events that changed it, in time order",
    )
    .argument('<type/name>', 'the object, as kubectl names it: pod/web-1, deploy/api, node/n1')
    .option('-n, --namespace <ns>', "namespace (default: the kubeconfig context's, else default)")
    .option('--since <time>', `from this long ago (2d) or this time (RFC 3339) ${WINDOW_HELP}`, DEFAULT_SINCE)
    .option('--until <time>', 'up to this long ago (10m) or this time (RFC 3339); default: now')
    .option('-o, --output <format>', 'text or json (the merged objects, one per line)', 'text')
    .option('--color', 'colour the marks even when not on a terminal')
    .option('--no-color', 'no colour');
  addConnectionOptions(cmd).action(async (target: string, flags: TimelineFlags) => {
    if (flags.output !== 'text' && flags.output !== 'json')
      throw new CliError(`--output must be text or json, got ${JSON.stringify(flags.output)}`, 2);
    let ref: ReturnType<typeof parseObjectRef>;
    try {
      ref = parseObjectRef(target, flags.namespace ?? contextNamespace(flags) ?? 'default');
    } catch (err) {
      if (err instanceof ObjectRefError) throw new CliError(err.message, 2);
      throw err;
    }
    const now = nowNs();
    const from = parseTimeFlag('--since', flags.since, now);
    const to = flags.until === undefined ? now : parseTimeFlag('--until', flags.until, now);
    if (to < from) throw new CliError('--until must not be before --since', 2);
    const client = await KubeClient.open(flags);
    try {
      const sources = timelineSources(ref, formatRfc3339Nano(from), formatRfc3339Nano(to));
      const answers = await Promise.all(
        sources.map(async (s) => {
          const resource = findResource(s.resource);
          const items: TimelineObject[] = [];
          try {
            let token: string | undefined;
            do {
              const page = await client.list(resource, {
                ...(s.namespace ? { namespace: s.namespace } : {}),
                fieldSelector: s.fieldSelector,
                limit: PAGE,
                ...(token ? { continue: token } : {}),
              });
              const got = page.body.items;
              if (Array.isArray(got)) items.push(...(got as TimelineObject[]));
              token = page.metadata.continue;
            } while (token && items.length < MAX_ITEMS);
            return { mark: s.mark, items, error: undefined };
          } catch (err) {
            if (err instanceof ClientError && (err.status === 403 || err.status === 404))
              return { mark: s.mark, items, error: err };
            throw err;
          }
        }),
      );
      const refused = answers.filter((a) => a.error !== undefined);
      if (refused.length === answers.length) throw refused[0]!.error;
      for (const a of refused)
        process.stderr.write(`kjournal: ${a.mark}s of ${formatObjectRef(ref)}: ${a.error!.message}\n`);
      const rows = mergeTimeline(answers);
      if (rows.length === 0) {
        noneFound(ref.namespace || undefined);
        if (flags.until === undefined && parseDuration(flags.since.trim()) !== undefined) {
          // Older lines, Events or audit events about the object: one object of any readable list.
          const readable = sources.filter((_, i) => answers[i]!.error === undefined);
          const exists = async (a: bigint, b: bigint): Promise<boolean> => {
            const probes = timelineSources(ref, formatRfc3339Nano(a), formatRfc3339Nano(b - 1n)).filter((p) =>
              readable.some((r) => r.mark === p.mark),
            );
            for (const p of probes) {
              const page = await client.list(findResource(p.resource), {
                ...(p.namespace ? { namespace: p.namespace } : {}),
                fieldSelector: p.fieldSelector,
                limit: 1,
              });
              if (Array.isArray(page.body.items) && page.body.items.length > 0) return true;
            }
            return false;
          };
          await hintOlder('entries', from, now, () => findNewest(exists, from, now));
        }
        return;
      }
      const out = new Printer();
      if (flags.output === 'json') {
        await out.lines(rows.map((r) => JSON.stringify({ mark: r.mark, time: r.time, object: r.object })));
      } else {
        const p = palette(wantsColor(flags.color, process.stdout));
        await out.lines(rows.map((r) => textLine(r, p)));
      }
    } finally {
      client.close();
    }
  });
}

function textLine(r: TimelineItem, p: ReturnType<typeof palette>): string {
  return `${r.time}  ${p.paint(MARK_COLOURS[r.mark], r.mark.padEnd(5))}  ${r.summary}`;
}
