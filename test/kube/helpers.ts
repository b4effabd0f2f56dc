/**
 * @module Helpers for the core.kjournal end-to-end tests: a kubeconfig for a plain-HTTP server, the
 * real kubectl, and realistic data pushed as the Loki API receives it and as `kjournal import`
 * stores events and audit events (same labels, attributes and bodies).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditAttributes } from '../../src/formats/audit.js';
import { eventAttributes, eventTimestamp } from '../../src/formats/events.js';
import { pushJson } from '../helpers/server-process.js';

export const KUBECTL = '/usr/bin/kubectl';

/**
 * Writes a kubeconfig pointing at `url` and returns its path; for a TLS server, the CA file to
 * trust and the user's token.
 */
export async function writeKubeconfig(url: string, tls?: { caFile: string; token: string }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-kubeconfig-'));
  const path = join(dir, 'config');
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      tls
        ? `- cluster: {server: "${url}", certificate-authority: "${tls.caFile}"}`
        : `- cluster: {server: "${url}"}`,
      '  name: kjournal',
      'contexts:',
      '- context: {cluster: kjournal, user: tester}',
      '  name: kjournal',
      'current-context: kjournal',
      'users:',
      '- name: tester',
      tls ? `  user: {token: "${tls.token}"}` : '  user: {}',
      '',
    ].join('\n'),
  );
  return path;
}

/** The environment for kubectl: no KUBECONFIG of the caller's, a private cache directory. */
export function kubectlEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, KUBECACHEDIR: join(home, 'cache') };
  delete env.KUBECONFIG;
  return env;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(kubeconfig: string, args: string[], home: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      ['--kubeconfig', kubeconfig, ...args],
      { env: kubectlEnv(home), timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export const nsNow = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** RFC 3339 with microseconds for a nanosecond time. */
export const micro = (ns: bigint): string => {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  return `${iso.slice(0, 19)}.${((ns % 1_000_000_000n) / 1000n).toString().padStart(6, '0')}Z`;
};

async function push(url: string, streams: unknown[], headers: Record<string, string> = {}): Promise<void> {
  const r = await pushJson(url, { streams }, headers);
  if (r.status !== 204) throw new Error(`push: ${r.status} ${r.text}`);
}

export interface PodLine {
  namespace: string;
  pod: string;
  container: string;
  app: string;
  line: string;
  ts?: bigint;
  stream?: string;
  node?: string;
}

/** Container log lines with Viaq-style pod labels, as a collector pushes them. */
export async function pushContainerLogs(url: string, lines: PodLine[]): Promise<void> {
  const base = nsNow();
  await push(
    url,
    lines.map((l, i) => ({
      stream: {
        kind: 'containerlog',
        namespace: l.namespace,
        pod: l.pod,
        container: l.container,
        node: l.node ?? 'node-1',
        stream: l.stream ?? 'stdout',
        kubernetes_labels_app: l.app,
      },
      values: [[String(l.ts ?? base - BigInt(lines.length - i) * 1_000_000n), l.line]],
    })),
  );
}

/** A core/v1 Event, stored as `kjournal import --format events` stores it. */
export async function pushCoreEvent(url: string, e: Record<string, unknown>): Promise<void> {
  const regarding = e.involvedObject as { namespace?: string };
  const ts = eventTimestamp(e);
  if (ts === undefined) throw new Error('event without a time');
  await push(url, [
    {
      stream: regarding.namespace ? { kind: 'event', namespace: regarding.namespace } : { kind: 'event' },
      values: [[String(ts), JSON.stringify(e), eventAttributes(e)]],
    },
  ]);
}

/** An audit.k8s.io/v1 Event, stored as `kjournal import --format audit` stores it. */
export async function pushAuditEvent(url: string, e: Record<string, unknown>, ts: bigint): Promise<void> {
  await push(url, [
    {
      stream: { kind: 'auditevent', class: 'audit' },
      values: [[String(ts), JSON.stringify(e), auditAttributes(e)]],
    },
  ]);
}

export async function pushNodeLog(url: string, node: string, source: string, line: string): Promise<void> {
  await push(url, [{ stream: { kind: 'log', node, source }, values: [[String(nsNow()), line]] }]);
}

export function coreEvent(
  name: string,
  ns: string,
  pod: string,
  reason: string,
  type: string,
  message: string,
  at: bigint,
) {
  const t = new Date(Number(at / 1_000_000n)).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: ns, uid: `uid-${name}` },
    involvedObject: { kind: 'Pod', namespace: ns, name: pod, apiVersion: 'v1' },
    reason,
    message,
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: t,
    lastTimestamp: t,
    count: 1,
    type,
  };
}

export function auditEvent(
  id: string,
  verb: string,
  user: string,
  resource: string,
  code: number,
  ts: bigint,
) {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: id,
    stage: 'ResponseComplete',
    requestURI: `/api/v1/namespaces/shop/${resource}`,
    verb,
    user: { username: user, groups: ['system:authenticated'] },
    sourceIPs: ['10.0.0.1'],
    userAgent: 'kubectl/v1.32.4',
    objectRef: { resource, namespace: 'shop', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code },
    requestReceivedTimestamp: micro(ts - 1_000_000n),
    stageTimestamp: micro(ts),
  };
}
