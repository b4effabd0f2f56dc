/**
 * @module Reading a kubeconfig the way kubectl does: several files merge with the first one winning
 * (per named cluster, user and context, and for current-context), relative paths are relative to the
 * file that names them, `*-data` fields are base64 and win over their file twins, and a context that
 * names a missing cluster or user is an error.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { KubeconfigError } from './errors.js';
import type { ExecConfig } from './exec-credential.js';

type Obj = Record<string, unknown>;

/** A named stanza with the directory of the file it came from, for its relative paths. */
interface Named {
  readonly value: Obj;
  readonly dir: string;
}

export interface MergedKubeconfig {
  readonly files: readonly string[];
  readonly currentContext?: string;
  readonly clusters: ReadonlyMap<string, Named>;
  readonly users: ReadonlyMap<string, Named>;
  readonly contexts: ReadonlyMap<string, Named>;
}

/** What one context gives: the server, its TLS settings and the user's credentials. */
export interface KubeconfigConnection {
  readonly context: string;
  readonly server: string;
  readonly ca?: Buffer;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string;
  readonly token?: string;
  readonly username?: string;
  readonly password?: string;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** A credential plugin to run when no token was given on the command line. */
  readonly exec?: ExecConfig;
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (o: Obj, key: string): string | undefined => {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/** The files kubectl would read: KUBECONFIG's list (missing ones skipped), else ~/.kube/config. */
export function defaultKubeconfigPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = env.KUBECONFIG;
  if (list) return list.split(process.platform === 'win32' ? ';' : ':').filter((p) => p !== '');
  return [join(homedir(), '.kube', 'config')];
}

function readOne(path: string): Obj {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new KubeconfigError(`cannot read kubeconfig ${path}: ${why}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new KubeconfigError(
      `kubeconfig ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (doc === null || doc === undefined) return {};
  if (!isObj(doc)) throw new KubeconfigError(`kubeconfig ${path} is not a kubeconfig (not a mapping)`);
  return doc;
}

function addNamed(into: Map<string, Named>, list: unknown, field: string, dir: string): void {
  if (!Array.isArray(list)) return;
  for (const item of list) {
    if (!isObj(item)) continue;
    const name = str(item, 'name');
    const value = item[field];
    if (name === undefined || !isObj(value) || into.has(name)) continue;
    into.set(name, { value, dir });
  }
}

/**
 * Reads and merges kubeconfig files. `required` files must exist (an explicit --kubeconfig); the
 * others are skipped when missing, as kubectl skips missing entries of KUBECONFIG.
 */
export function loadKubeconfig(paths: readonly string[], required: boolean): MergedKubeconfig {
  const clusters = new Map<string, Named>();
  const users = new Map<string, Named>();
  const contexts = new Map<string, Named>();
  const files: string[] = [];
  let currentContext: string | undefined;
  for (const p of paths) {
    const path = resolve(p);
    let doc: Obj;
    try {
      doc = readOne(path);
    } catch (err) {
      if (!required && err instanceof KubeconfigError && /no such file/.test(err.message)) continue;
      throw err;
    }
    files.push(path);
    const dir = dirname(path);
    currentContext ??= str(doc, 'current-context');
    addNamed(clusters, doc.clusters, 'cluster', dir);
    addNamed(users, doc.users, 'user', dir);
    addNamed(contexts, doc.contexts, 'context', dir);
  }
  if (files.length === 0) {
    throw new KubeconfigError(`no kubeconfig found (looked at ${paths.join(', ') || 'nothing'})`);
  }
  return { files, ...(currentContext !== undefined ? { currentContext } : {}), clusters, users, contexts };
}

function readBytes(path: string, dir: string, what: string): Buffer {
  const full = isAbsolute(path) ? path : resolve(dir, path);
  try {
    return readFileSync(full);
  } catch (err) {
    throw new KubeconfigError(
      `cannot read ${what} ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** `<key>-data` (base64) wins over `<key>` (a file), as in kubectl. */
function dataOrFile(o: Obj, key: string, dir: string, what: string): Buffer | undefined {
  const data = str(o, `${key}-data`);
  if (data !== undefined) return Buffer.from(data, 'base64');
  const file = str(o, key);
  return file === undefined ? undefined : readBytes(file, dir, what);
}

function execConfig(user: Obj, dir: string): ExecConfig | undefined {
  const exec = user.exec;
  if (!isObj(exec)) return undefined;
  const command = str(exec, 'command');
  if (command === undefined) throw new KubeconfigError('kubeconfig user exec plugin has no command');
  const args = Array.isArray(exec.args) ? exec.args.filter((a): a is string => typeof a === 'string') : [];
  const env: Record<string, string> = {};
  if (Array.isArray(exec.env)) {
    for (const e of exec.env) {
      if (isObj(e) && typeof e.name === 'string' && typeof e.value === 'string') env[e.name] = e.value;
    }
  }
  // kubectl: a relative command that contains a path separator is relative to the kubeconfig's directory.
  const resolved = command.includes('/') && !isAbsolute(command) ? resolve(dir, command) : command;
  return {
    command: resolved,
    args,
    env,
    apiVersion: str(exec, 'apiVersion') ?? 'client.authentication.k8s.io/v1',
  };
}

/** The connection of `contextName`, or of the current context when it is undefined. */
export function selectContext(config: MergedKubeconfig, contextName?: string): KubeconfigConnection {
  const where = config.files.join(':');
  const name = contextName ?? config.currentContext;
  if (name === undefined)
    throw new KubeconfigError(`kubeconfig ${where} has no current-context; pass --context`);
  const ctx = config.contexts.get(name);
  if (ctx === undefined) throw new KubeconfigError(`context "${name}" not found in kubeconfig ${where}`);
  const clusterName = str(ctx.value, 'cluster');
  const cluster = clusterName === undefined ? undefined : config.clusters.get(clusterName);
  if (cluster === undefined) {
    throw new KubeconfigError(
      `cluster "${clusterName ?? ''}" of context "${name}" not found in kubeconfig ${where}`,
    );
  }
  const server = str(cluster.value, 'server');
  if (server === undefined)
    throw new KubeconfigError(`cluster "${clusterName}" in kubeconfig ${where} has no server`);
  const userName = str(ctx.value, 'user');
  let user: Named | undefined;
  if (userName !== undefined) {
    user = config.users.get(userName);
    if (user === undefined) {
      throw new KubeconfigError(`user "${userName}" of context "${name}" not found in kubeconfig ${where}`);
    }
  }
  const c = cluster.value;
  const ca = dataOrFile(c, 'certificate-authority', cluster.dir, 'certificate authority');
  const insecure = c['insecure-skip-tls-verify'] === true;
  const tlsServerName = str(c, 'tls-server-name');
  const out: {
    -readonly [K in keyof KubeconfigConnection]: KubeconfigConnection[K];
  } = { context: name, server, insecureSkipTlsVerify: insecure };
  if (ca !== undefined) out.ca = ca;
  if (tlsServerName !== undefined) out.tlsServerName = tlsServerName;
  if (user !== undefined) {
    const u = user.value;
    const token = str(u, 'token');
    const tokenFile = str(u, 'tokenFile');
    if (token !== undefined) out.token = token;
    else if (tokenFile !== undefined)
      out.token = readBytes(tokenFile, user.dir, 'token file').toString('utf8').trim();
    const username = str(u, 'username');
    const password = str(u, 'password');
    if (username !== undefined) out.username = username;
    if (password !== undefined) out.password = password;
    const cert = dataOrFile(u, 'client-certificate', user.dir, 'client certificate');
    const key = dataOrFile(u, 'client-key', user.dir, 'client key');
    if (cert !== undefined) out.cert = cert;
    if (key !== undefined) out.key = key;
    const exec = execConfig(u, user.dir);
    if (exec !== undefined) out.exec = exec;
    const provider = u['auth-provider'];
    if (out.token === undefined && isObj(provider)) {
      // Legacy auth providers (oidc, gcp) keep the current token in their config; kjournal cannot
      // refresh it, but a fresh one works as a bearer token.
      const cfg = isObj(provider.config) ? provider.config : {};
      const t = str(cfg, 'id-token') ?? str(cfg, 'access-token');
      if (t === undefined) {
        throw new KubeconfigError(
          `user "${userName}" uses auth-provider ${String(provider.name)} without a token; pass --token`,
        );
      }
      out.token = t;
    }
  }
  return out;
}
