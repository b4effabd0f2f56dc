/**
 * @module Shortcuts over the core.kjournal API, in the spirit of stern and kubectl:
 * `kjournal pods [POD] [-c CONTAINER]` prints container logs as `pod container message` lines (a
 * colour per pod and per container on a terminal, the message of a JSON line rather than its JSON,
 * in time order across pods), `--tail N`, `-f`; `kjournal logs [--node N] [--source S]` prints node
 * logs the same way; `kjournal events [KIND[/NAME]]` and `kjournal audit [RESOURCE[/NAME]]` are
 * `get events`/`get auditevents` with the field selectors they imply.
 *
 * POD and CONTAINER are regular expressions, unanchored, as stern takes them: `web` matches web-1 and
 * web-2, `^web-1$` only web-1. They are matched here, not by the server (its field selectors are
 * exact); `--field-selector pod=web-1` narrows on the server.
 */
import type { Command } from 'commander';
import { findResource, KubeClient } from '../client/kube.js';
import { addConnectionOptions } from '../client/options.js';
import { TIMESTAMP_ANNOTATION } from '../kube/objects.js';
import { messageOf } from '../kube/tables.js';
import { CliError } from './errors.js';
import {
  addListTargetOptions,
  addOutputOptions,
  fieldValueText,
  type GetOutput,
  hintOlderObjects,
  type ListTargetFlags,
  listAll,
  listTargetOf,
  runGet,
  watchLoop,
} from './get.js';
import { colorFor, type Palette, palette, wantsColor } from './print/color.js';
import { Printer } from './print/printer.js';
import { nonNegativeInt } from './query.js';
import { noneFound } from './window.js';

type Obj = Record<string, unknown>;

interface LineFlags extends ListTargetFlags {
  tail?: number;
  follow?: boolean;
  timestamps?: boolean;
  color?: boolean;
}

function regex(flag: string, text: string | undefined): RegExp | undefined {
  if (text === undefined) return undefined;
  try {
    return new RegExp(text);
  } catch (err) {
    throw new CliError(`${flag} is not a valid regular expression: ${(err as Error).message}`, 2);
  }
}

const str = (o: Obj, k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');

/** How one object becomes one line, and whether it is wanted. */
interface LineFormat {
  keep(obj: Obj): boolean;
  fields(obj: Obj): { text: string; color: string }[];
}

function lineOf(obj: Obj, f: LineFormat, p: Palette, timestamps: boolean): string {
  const parts: string[] = [];
  if (timestamps) {
    const md = (obj.metadata ?? {}) as { annotations?: Record<string, string>; creationTimestamp?: string };
    parts.push(p.paint('blue', md.annotations?.[TIMESTAMP_ANNOTATION] ?? md.creationTimestamp ?? ''));
  }
  for (const { text, color } of f.fields(obj)) {
    parts.push(p.paint(colorFor(color), text));
  }
  parts.push(messageOf(obj.payload));
  return parts.join(' ');
}

/** Lists (the newest --tail N of it, oldest first) and with -f follows, printing lines. */
async function runLines(
  resourceName: string,
  flags: LineFlags,
  extraFields: string[],
  f: LineFormat,
): Promise<void> {
  const resource = findResource(resourceName);
  const sel = listTargetOf(resource, flags, extraFields);
  const p = palette(wantsColor(flags.color, process.stdout));
  const client = await KubeClient.open(flags);
  const out = new Printer();
  const timestamps = flags.timestamps === true;
  const tail = flags.tail;
  const kept: string[] = [];
  let count = 0;
  const limit = flags.limit;
  const take = (items: Obj[]): string[] => {
    const lines: string[] = [];
    for (const obj of items) {
      if (!f.keep(obj)) continue;
      if (tail === undefined && limit > 0 && count >= limit) break;
      count++;
      lines.push(lineOf(obj, f, p, timestamps));
    }
    return lines;
  };
  let following = false;
  const sink = {
    page: async (body: Obj) => {
      const lines = take(Array.isArray(body.items) ? (body.items as Obj[]) : []);
      if (tail !== undefined && !following) {
        kept.push(...lines);
        if (kept.length > tail) kept.splice(0, kept.length - tail);
      } else {
        await out.lines(lines);
      }
    },
    added: async (obj: Obj) => {
      await out.lines(take([obj]));
    },
  };
  try {
    // Client-side filters: the server's limit cannot count what they keep, so list everything.
    const listed = await listAll(
      client,
      sel,
      { table: false, limit: 0, chunkSize: flags.chunkSize, out },
      sink,
    );
    if (tail !== undefined) await out.lines(kept);
    if (!(flags.follow || flags.watch)) {
      // Said as `get` and kubectl say it, on stderr; then when the newest older line is, if any.
      if (count === 0) {
        noneFound(sel.namespace);
        await hintOlderObjects(client, sel, 'lines', f.keep);
      }
      return;
    }
    following = true;
    await watchLoop(
      client,
      sel,
      { table: false, chunkSize: flags.chunkSize, resourceVersion: listed.resourceVersion, out },
      sink,
    );
  } finally {
    client.close();
  }
}

function addLineOptions(cmd: Command): Command {
  addListTargetOptions(cmd);
  return cmd
    .option('--tail <n>', 'print only the newest N lines (oldest first)', nonNegativeInt)
    .option('-f, --follow', 'after the lines so far, print new ones as they arrive')
    .option('-t, --timestamps', 'print the time of each line first')
    .option('--color', 'colour pods and containers even when not on a terminal')
    .option('--no-color', 'never colour the output (also NO_COLOR)');
}

interface PodsFlags extends LineFlags {
  container?: string;
}

interface EventsFlags extends ListTargetFlags {
  output: GetOutput;
  headers: boolean;
}

interface AuditFlags extends EventsFlags {
  user?: string;
  verb?: string;
}

/** Kinds as kubectl users type them, to the Kind an event's `regarding` carries. */
const KINDS: Record<string, string> = {
  pod: 'Pod',
  po: 'Pod',
  pods: 'Pod',
  node: 'Node',
  no: 'Node',
  nodes: 'Node',
  deployment: 'Deployment',
  deploy: 'Deployment',
  deployments: 'Deployment',
  replicaset: 'ReplicaSet',
  rs: 'ReplicaSet',
  statefulset: 'StatefulSet',
  sts: 'StatefulSet',
  daemonset: 'DaemonSet',
  ds: 'DaemonSet',
  job: 'Job',
  cronjob: 'CronJob',
  cj: 'CronJob',
  service: 'Service',
  svc: 'Service',
  persistentvolumeclaim: 'PersistentVolumeClaim',
  pvc: 'PersistentVolumeClaim',
  persistentvolume: 'PersistentVolume',
  pv: 'PersistentVolume',
  namespace: 'Namespace',
  ns: 'Namespace',
  configmap: 'ConfigMap',
  cm: 'ConfigMap',
  secret: 'Secret',
  ingress: 'Ingress',
  ing: 'Ingress',
  horizontalpodautoscaler: 'HorizontalPodAutoscaler',
  hpa: 'HorizontalPodAutoscaler',
  serviceaccount: 'ServiceAccount',
  sa: 'ServiceAccount',
  endpoints: 'Endpoints',
  ep: 'Endpoints',
};

/** `KIND[/NAME]` split; an empty part is an error. */
function splitRef(what: string, text: string): { first: string; name?: string } {
  const i = text.indexOf('/');
  const first = i < 0 ? text : text.slice(0, i);
  const name = i < 0 ? undefined : text.slice(i + 1);
  if (first === '' || name === '')
    throw new CliError(`${what} must be KIND or KIND/NAME, got ${JSON.stringify(text)}`, 2);
  return name === undefined ? { first } : { first, name };
}

export function registerKubeShortcuts(program: Command): void {
  const pods = program
    .command('pods')
    .description(
      'Print container logs as "pod container message" lines in time order, like stern: POD and ' +
        '-c CONTAINER are unanchored regular expressions (web matches web-1; ^web-1$ only it)',
    )
    .argument('[pod]', 'regular expression on pod names');
  pods.option('-c, --container <regex>', 'regular expression on container names');
  addLineOptions(pods);
  addConnectionOptions(pods).action(async (pod: string | undefined, flags: PodsFlags) => {
    const podRe = regex('POD', pod);
    const containerRe = regex('--container', flags.container);
    const all = flags.allNamespaces === true;
    await runLines('containerlogs', flags, [], {
      keep: (o) =>
        (!podRe || podRe.test(str(o, 'pod'))) && (!containerRe || containerRe.test(str(o, 'container'))),
      fields: (o) => {
        const ns = String((o.metadata as Obj | undefined)?.namespace ?? '');
        const podName = str(o, 'pod');
        const key = `${ns}/${podName}`;
        return [
          ...(all ? [{ text: ns, color: ns }] : []),
          { text: podName, color: key },
          { text: str(o, 'container'), color: `${key}/${str(o, 'container')}` },
        ];
      },
    });
  });

  const logs = program
    .command('logs')
    .description(
      'Print node logs (journal, syslog, …) as "node source message" lines in time order; a syslog or ' +
        'journal line names its program: "node source program: message"',
    )
    .option('--node <node>', 'only this node')
    .option('--source <source>', 'only this source');
  addLineOptions(logs);
  addConnectionOptions(logs).action(async (flags: LineFlags & { node?: string; source?: string }) => {
    const fields: string[] = [];
    if (flags.node !== undefined) fields.push(`node=${fieldValueText(flags.node)}`);
    if (flags.source !== undefined) fields.push(`source=${fieldValueText(flags.source)}`);
    await runLines('logs', flags, fields, {
      keep: () => true,
      // The program (syslog APP-NAME, journald SYSLOG_IDENTIFIER) as syslog files print it: `sshd:`.
      fields: (o) => [
        { text: str(o, 'node'), color: str(o, 'node') },
        { text: str(o, 'source'), color: `${str(o, 'node')}/${str(o, 'source')}` },
        ...(str(o, 'program') !== ''
          ? [{ text: `${str(o, 'program')}:`, color: `${str(o, 'node')}/${str(o, 'program')}` }]
          : []),
      ],
    });
  });

  const events = program
    .command('events')
    .description(
      'List Kubernetes events kept by kjournal, like kubectl events; KIND/NAME: only about that object',
    )
    .argument('[object]', 'KIND or KIND/NAME, e.g. Pod/web-1 or deploy/web');
  addListTargetOptions(events);
  addOutputOptions(events);
  addConnectionOptions(events).action(async (ref: string | undefined, flags: EventsFlags) => {
    const fields: string[] = [];
    if (ref !== undefined) {
      const { first, name } = splitRef('OBJECT', ref);
      fields.push(`regarding.kind=${fieldValueText(KINDS[first.toLowerCase()] ?? first)}`);
      if (name !== undefined) fields.push(`regarding.name=${fieldValueText(name)}`);
    }
    const resource = findResource('events');
    await runGet(listTargetOf(resource, flags, fields), undefined, flags);
  });

  const audit = program
    .command('audit')
    .description('List Kubernetes audit events kept by kjournal; RESOURCE[/NAME]: only requests for it')
    .argument('[resource]', 'RESOURCE or RESOURCE/NAME, as in the request (secrets, pods/web-1)')
    .option('--user <user>', 'only requests by this user')
    .option('--verb <verb>', 'only this verb (get, list, create, update, patch, delete, …)');
  addListTargetOptions(audit);
  addOutputOptions(audit);
  addConnectionOptions(audit).action(async (ref: string | undefined, flags: AuditFlags) => {
    const fields: string[] = [];
    if (ref !== undefined) {
      const { first, name } = splitRef('RESOURCE', ref);
      fields.push(`objectRef.resource=${fieldValueText(first)}`);
      if (name !== undefined) fields.push(`objectRef.name=${fieldValueText(name)}`);
    }
    // Audit events are cluster-scoped: -n means the namespace of the object requested.
    if (flags.namespace !== undefined) fields.push(`objectRef.namespace=${fieldValueText(flags.namespace)}`);
    if (flags.user !== undefined) fields.push(`user.username=${fieldValueText(flags.user)}`);
    if (flags.verb !== undefined) fields.push(`verb=${fieldValueText(flags.verb)}`);
    const resource = findResource('auditevents');
    const { namespace: _ns, ...rest } = flags;
    await runGet(listTargetOf(resource, rest, fields), undefined, rest);
  });
}
