/**
 * @module From flags (and maybe a kubeconfig) to one resolved connection. Flags always win; the
 * kubeconfig fills in what they leave out, as kubectl's own flags override its kubeconfig.
 */
import { readFileSync } from 'node:fs';
import { TOKEN_FILE_REREAD_MS } from '../cluster/cluster.js';
import { KubeconfigError } from '../cluster/errors.js';
import { runExecCredential } from '../cluster/exec-credential.js';
import {
  defaultKubeconfigPaths,
  type KubeconfigConnection,
  loadKubeconfig,
  selectContext,
} from '../cluster/kubeconfig.js';
import { flagsFromEnv } from './env.js';
import { ClientError } from './errors.js';
import { type ConnectionFlags, DEFAULT_SERVER } from './options.js';

/** The `core.kjournal` group's path, under which kjournal also serves the Loki and korrel8r APIs. */
export const LOKI_GROUP_PREFIX = '/apis/core.kjournal/v1alpha1';

export interface Connection {
  /** Base URL; request paths are appended to its path, so a proxy prefix is kept. */
  readonly server: URL;
  readonly token?: string;
  /**
   * A file holding the bearer token (a projected service-account token, which the kubelet
   * rotates): read again at most once a minute, as client-go does. Wins over `token`.
   */
  readonly tokenFile?: string;
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** PEM CA bundle that replaces the system roots. */
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string;
  /** Sent as X-Scope-OrgID. */
  readonly tenant?: string;
  /**
   * Where the Loki and korrel8r APIs are under `server`: the `core.kjournal` group's path
   * (`/apis/core.kjournal/v1alpha1`) when the server comes from a kubeconfig, since it may well be
   * kube-apiserver, which forwards only the group's paths to kjournal (API aggregation); kjournal
   * serves them there too. Undefined: at the server's root, as Loki serves them.
   */
  readonly lokiPrefix?: string;
  /**
   * With `lokiPrefix`: the namespace whose namespaced path (`<prefix>/namespaces/<ns>/loki/...`) the
   * Loki reads take, so that a user whose rights end at a namespace passes kube-apiserver's own
   * authorization (RBAC on `loki/v1` in that namespace).
   */
  readonly lokiNamespace?: string;
  /** Where the settings came from, for messages. */
  readonly source: string;
}

/**
 * A kubeconfig is read when --kubeconfig or --context is given, or when KUBECONFIG is set and --server
 * was not: an explicit --server with nothing else means "just this server", whatever the shell has.
 */
function wantsKubeconfig(flags: ConnectionFlags, env: NodeJS.ProcessEnv): boolean {
  if (flags.kubeconfig !== undefined || flags.context !== undefined) return true;
  return !!env.KUBECONFIG && flags.server === undefined;
}

function parseServer(text: string, from: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ClientError(`invalid server URL ${JSON.stringify(text)} (${from})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ClientError(`server URL ${text} (${from}) must be http:// or https://`);
  }
  return url;
}

function readPemFile(path: string, flag = '--certificate-authority'): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ClientError(`cannot read ${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
}

const tokenFiles = new Map<string, { token: string; readAt: number }>();

/** The token in `path`, re-read once a minute; the last good one while the file is briefly missing. */
export function tokenFromFile(path: string, now = Date.now()): string {
  const cached = tokenFiles.get(path);
  if (cached && now - cached.readAt < TOKEN_FILE_REREAD_MS) return cached.token;
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if (cached) return cached.token;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ClientError(`cannot read the token file ${path}: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
  if (token === '') {
    if (cached) return cached.token;
    throw new ClientError(`the token file ${path} is empty`);
  }
  tokenFiles.set(path, { token, readAt: now });
  return token;
}

/** The headers every request to a server carries: credentials and tenant (X-Scope-OrgID). */
export function credentialHeaders(c: Connection): Record<string, string> {
  const h: Record<string, string> = {};
  if (c.tokenFile !== undefined) h.authorization = `Bearer ${tokenFromFile(c.tokenFile)}`;
  else if (c.token !== undefined) h.authorization = `Bearer ${c.token}`;
  else if (c.basicAuth !== undefined) {
    h.authorization = `Basic ${Buffer.from(`${c.basicAuth.username}:${c.basicAuth.password}`).toString('base64')}`;
  }
  if (c.tenant !== undefined) h['x-scope-orgid'] = c.tenant;
  return h;
}

/** The kubeconfig's own errors (src/cluster/) as the client library's: the same one line. */
async function viaKubeconfig<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof KubeconfigError) throw new ClientError(err.message);
    throw err;
  }
}

/** TLS options for a connection's server: verification, CA, client certificate, server name. */
export function tlsOptions(c: Connection): {
  rejectUnauthorized: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
} {
  return {
    rejectUnauthorized: !c.insecureSkipTlsVerify,
    ...(c.ca !== undefined ? { ca: c.ca } : {}),
    ...(c.cert !== undefined ? { cert: c.cert } : {}),
    ...(c.key !== undefined ? { key: c.key } : {}),
    ...(c.tlsServerName !== undefined ? { servername: c.tlsServerName } : {}),
  };
}

export async function resolveConnection(
  given: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Connection> {
  // The environment stands in for the flags not given (env.ts), before anything else looks at them.
  const { flags, used } = flagsFromEnv(given, env);
  const serverFrom =
    given.server !== undefined ? '--server' : used.find((n) => n === 'KJOURNAL_SERVER' || n === 'LOKI_ADDR');
  if (flags.insecureSkipTlsVerify && flags.certificateAuthority !== undefined) {
    // kubectl refuses the same pair: a CA that is then not checked is a mistake, not a setting.
    throw new ClientError('--certificate-authority and --insecure-skip-tls-verify cannot be used together');
  }
  let kc: KubeconfigConnection | undefined;
  if (wantsKubeconfig(flags, env)) {
    const paths = flags.kubeconfig !== undefined ? [flags.kubeconfig] : defaultKubeconfigPaths(env);
    kc = await viaKubeconfig(() =>
      selectContext(loadKubeconfig(paths, flags.kubeconfig !== undefined), flags.context),
    );
  }
  const source = kc
    ? `kubeconfig context ${kc.context}`
    : used.length > 0
      ? `flags and ${used.join(', ')}`
      : 'flags';
  const server = parseServer(
    flags.server ?? kc?.server ?? DEFAULT_SERVER,
    serverFrom ?? (kc ? source : 'default'),
  );

  let token = flags.token ?? kc?.token;
  // The client certificate of the flags replaces the kubeconfig's, as kubectl's --client-certificate.
  let cert =
    flags.clientCertificate !== undefined
      ? readPemFile(flags.clientCertificate, '--client-certificate')
      : kc?.cert;
  let key = flags.clientKey !== undefined ? readPemFile(flags.clientKey, '--client-key') : kc?.key;
  const exec = kc?.exec;
  if (token === undefined && exec !== undefined) {
    const cred = await viaKubeconfig(() => runExecCredential(exec));
    token = cred.token;
    cert = cred.cert ?? cert;
    key = cred.key ?? key;
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new ClientError(`${source}: a client certificate needs both a certificate and a key`);
  }

  const insecure = flags.insecureSkipTlsVerify ?? kc?.insecureSkipTlsVerify ?? false;
  // An explicit --insecure-skip-tls-verify drops the kubeconfig's CA, as kubectl does.
  const ca =
    flags.certificateAuthority !== undefined
      ? readPemFile(flags.certificateAuthority)
      : flags.insecureSkipTlsVerify
        ? undefined
        : kc?.ca;

  const conn: { -readonly [K in keyof Connection]: Connection[K] } = {
    server,
    insecureSkipTlsVerify: insecure,
    source,
  };
  if (flags.tokenFile !== undefined) {
    if (flags.token !== undefined) throw new ClientError('--token and --token-file cannot be used together');
    tokenFromFile(flags.tokenFile); // fail at start on a missing file
    conn.tokenFile = flags.tokenFile;
  } else if (token !== undefined && token !== '') conn.token = token;
  else if (flags.username !== undefined)
    conn.basicAuth = { username: flags.username, password: flags.password ?? '' };
  else if (kc?.username !== undefined)
    conn.basicAuth = { username: kc.username, password: kc.password ?? '' };
  if (ca !== undefined) conn.ca = ca;
  if (cert !== undefined && key !== undefined) {
    conn.cert = cert;
    conn.key = key;
  }
  if (kc?.tlsServerName !== undefined) conn.tlsServerName = kc.tlsServerName;
  if (flags.tenant !== undefined && flags.tenant !== '') conn.tenant = flags.tenant;
  if (kc && flags.server === undefined) conn.lokiPrefix = LOKI_GROUP_PREFIX;
  if (flags.verbose) {
    const base = `${server.href.replace(/\/+$/, '')}${conn.lokiPrefix ?? ''}`;
    process.stderr.write(
      `kjournal: server ${server.href} (from ${source}); Loki API at ${base}/loki/api/v1${conn.lokiPrefix ? ' (through the core.kjournal API group)' : ''}\n`,
    );
  }
  return conn;
}
