/**
 * @module A small client for the `core.kjournal/v1alpha1` API on top of the connection code: resolve
 * a resource name as kubectl does (plural, singular, kind, short name), list page by page through
 * `continue`, get one object, and watch (newline-delimited JSON events over a streamed response).
 * Every failure is a one-line ClientError: the server's Status message, or why it could not be reached.
 */
import http from 'node:http';
import https from 'node:https';
import { defaultKubeconfigPaths, loadKubeconfig } from '../cluster/kubeconfig.js';
import { GROUP, GROUP_VERSION, type KubeResource, RESOURCES } from '../kube/resources.js';
import { KjournalClient, serverMessage } from './client.js';
import { type Connection, credentialHeaders, resolveConnection, tlsOptions } from './connection.js';
import { ClientError } from './errors.js';
import type { ConnectionFlags } from './options.js';

export const TABLE_ACCEPT = 'application/json;as=Table;g=meta.k8s.io;v=v1,application/json';

/** A resource by plural, singular, kind or short name, any case, optionally `.core.kjournal`. */
export function findResource(text: string): KubeResource {
  let t = text.toLowerCase();
  for (const suffix of [`.${GROUP_VERSION.replace('/', '.')}`, `.${GROUP}`]) {
    // `containerlogs.v1alpha1.core.kjournal` or `containerlogs.core.kjournal`
    if (t.endsWith(suffix)) t = t.slice(0, -suffix.length);
  }
  t = t.replace(/\.v1alpha1$/, '');
  const r = RESOURCES.find(
    (r) => r.name === t || r.singular === t || r.kind.toLowerCase() === t || r.shortNames.includes(t),
  );
  if (!r) {
    throw new ClientError(
      `the server doesn't have a resource type "${text}" (want one of ${RESOURCES.map((r) => r.name).join(', ')})`,
      1,
    );
  }
  return r;
}

/**
 * The namespace of the kubeconfig context, when a kubeconfig is in use (the same rule as
 * resolveConnection: --kubeconfig or --context, or KUBECONFIG without --server).
 */
export function contextNamespace(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const wants =
    flags.kubeconfig !== undefined ||
    flags.context !== undefined ||
    (!!env.KUBECONFIG && flags.server === undefined);
  if (!wants) return undefined;
  try {
    const paths = flags.kubeconfig !== undefined ? [flags.kubeconfig] : defaultKubeconfigPaths(env);
    const kc = loadKubeconfig(paths, flags.kubeconfig !== undefined);
    const name = flags.context ?? kc.currentContext;
    const ns = name === undefined ? undefined : kc.contexts.get(name)?.value.namespace;
    return typeof ns === 'string' && ns !== '' ? ns : undefined;
  } catch {
    // resolveConnection reports a broken kubeconfig with the right message.
    return undefined;
  }
}

export interface ListOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly table?: boolean;
}

export interface ListPage {
  readonly metadata: { resourceVersion?: string; continue?: string };
  /** A Table (table requests) or a list. */
  readonly body: Record<string, unknown>;
}

export interface WatchEvent {
  readonly type: string;
  readonly object: Record<string, unknown>;
}

type Obj = Record<string, unknown>;

/**
 * The texts of a `Warning` header (`299 - "text"`, several comma-separated), as client-go's
 * ParseWarningHeaders reads them; `\"` and `\\` inside the quotes are unescaped.
 */
export function parseWarningHeader(value: string | string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
    for (const m of v.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)) out.push(m[1]!.replace(/\\(.)/g, '$1'));
  }
  return out;
}

export class KubeClient {
  private readonly warned = new Set<string>();

  private constructor(
    readonly http: KjournalClient,
    /** Where the server's warnings go, once each: stderr, as kubectl prints them. */
    private readonly onWarning: (text: string) => void = (text) => process.stderr.write(`Warning: ${text}\n`),
  ) {}

  static async open(flags: ConnectionFlags): Promise<KubeClient> {
    const conn = await resolveConnection(flags);
    return new KubeClient(new KjournalClient(conn, { userAgent: 'kjournal-get', timeoutMs: 300_000 }));
  }

  get connection(): Connection {
    return this.http.connection;
  }

  close(): void {
    this.http.close();
  }

  path(resource: KubeResource, namespace: string | undefined, name?: string): string {
    const ns =
      resource.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `/apis/${GROUP_VERSION}${ns}/${resource.name}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
  }

  private query(o: ListOptions): URLSearchParams {
    const q = new URLSearchParams();
    if (o.labelSelector) q.set('labelSelector', o.labelSelector);
    if (o.fieldSelector) q.set('fieldSelector', o.fieldSelector);
    if (o.limit !== undefined && o.limit > 0) q.set('limit', String(o.limit));
    if (o.continue) q.set('continue', o.continue);
    return q;
  }

  private async json(path: string, query: URLSearchParams, table: boolean | undefined): Promise<Obj> {
    let res: Awaited<ReturnType<KjournalClient['request']>>;
    try {
      res = await this.http.request('GET', path, {
        query,
        headers: { accept: table ? TABLE_ACCEPT : 'application/json' },
      });
    } catch (err) {
      throw unreachable(this.connection, err);
    }
    if (res.status < 200 || res.status >= 300) throw statusError(res.status, res.body);
    for (const w of parseWarningHeader(res.headers.warning)) {
      if (this.warned.has(w)) continue;
      this.warned.add(w);
      this.onWarning(w);
    }
    try {
      return JSON.parse(res.body.toString('utf8')) as Obj;
    } catch {
      throw new ClientError(`the server's answer is not JSON (HTTP ${res.status})`);
    }
  }

  async list(resource: KubeResource, o: ListOptions): Promise<ListPage> {
    const body = await this.json(this.path(resource, o.namespace), this.query(o), o.table);
    const md = (body.metadata ?? {}) as ListPage['metadata'];
    return { metadata: md, body };
  }

  async get(
    resource: KubeResource,
    namespace: string | undefined,
    name: string,
    table?: boolean,
  ): Promise<Obj> {
    return this.json(this.path(resource, namespace, name), new URLSearchParams(), table);
  }

  /**
   * Watches from `resourceVersion`, calling `onEvent` for each event in order; resolves when the
   * server ends the stream or `signal` aborts.
   */
  async watch(
    resource: KubeResource,
    o: ListOptions & { resourceVersion?: string },
    onEvent: (e: WatchEvent) => Promise<void> | void,
    signal: AbortSignal,
  ): Promise<void> {
    const q = this.query({ ...o, limit: 0 });
    q.set('watch', 'true');
    if (o.resourceVersion) q.set('resourceVersion', o.resourceVersion);
    const url = this.http.url(this.path(resource, o.namespace), q);
    const conn = this.connection;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = (url.protocol === 'https:' ? https : http).request(url, {
        method: 'GET',
        headers: headersOf(conn, o.table ? TABLE_ACCEPT : 'application/json'),
        signal,
        ...(url.protocol === 'https:' ? tlsOptions(conn) : {}),
      });
      req.on('response', resolve);
      req.on('error', (err) => reject(signal.aborted ? abortedError() : unreachable(conn, err)));
      req.end();
    }).catch((err: unknown) => {
      if (err instanceof AbortedError) return undefined;
      throw err;
    });
    if (!res) return;
    if ((res.statusCode ?? 0) >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw statusError(res.statusCode ?? 0, Buffer.concat(chunks));
    }
    let buf = '';
    try {
      for await (const chunk of res) {
        buf += (chunk as Buffer).toString('utf8');
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line !== '') await onEvent(JSON.parse(line) as WatchEvent);
          nl = buf.indexOf('\n');
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err instanceof ClientError ? err : new ClientError(`watch failed: ${(err as Error).message}`);
    }
  }
}

class AbortedError extends Error {}
const abortedError = (): AbortedError => new AbortedError('aborted');

function headersOf(c: Connection, accept: string): http.OutgoingHttpHeaders {
  return { 'user-agent': 'kjournal-get', accept, ...credentialHeaders(c) };
}

function unreachable(c: Connection, err: unknown): ClientError {
  return new ClientError(`cannot reach ${c.server.href}: ${(err as Error).message}`, undefined, {
    cause: err instanceof ClientError ? err.cause : undefined,
  });
}

/** The server's Status as one line: `Error from server (NotFound): …`, as kubectl prints it. */
export function statusError(status: number, body: Buffer): ClientError {
  let reason = '';
  try {
    const s = JSON.parse(body.toString('utf8')) as { kind?: string; reason?: string };
    if (s.kind === 'Status' && typeof s.reason === 'string') reason = ` (${s.reason})`;
  } catch {
    // not a Status
  }
  const msg = serverMessage(body);
  return new ClientError(`Error from server${reason}: ${msg || `HTTP ${status}`}`, status);
}
