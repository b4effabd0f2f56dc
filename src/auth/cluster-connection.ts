/**
 * @module The connection to the cluster that delegated authentication and authorization ask
 * (`--authentication-kubeconfig`, `--authorization-kubeconfig`), read with kjournal's own kubeconfig
 * reader (the one the CLI uses): the context's server, TLS and credentials, and, when the user's
 * token comes from a `tokenFile`, that file's path, so that the client re-reads it as the kubelet
 * rotates ServiceAccount tokens.
 */
import { isAbsolute, resolve } from 'node:path';
import { KubeconfigError } from '../cluster/errors.js';
import { type KubeconfigConnection, loadKubeconfig, selectContext } from '../cluster/kubeconfig.js';
import { AuthConfigError } from './errors.js';

/** What a delegating client needs from the kubeconfig: the connection and, when the token comes from a file, its path. */
export interface ClusterConnection {
  readonly conn: KubeconfigConnection;
  /** The user's `tokenFile`, re-read every minute (the kubelet rotates ServiceAccount tokens). */
  readonly tokenFile?: string;
}

/** Reads the kubeconfig a flag names; its errors become AuthConfigErrors naming the flag. */
export function loadClusterConnection(
  kubeconfig: string,
  context: string | undefined,
  flag: string,
): ClusterConnection {
  try {
    const merged = loadKubeconfig([kubeconfig], true);
    const conn = selectContext(merged, context);
    const userName = merged.contexts.get(conn.context)?.value.user;
    const user = typeof userName === 'string' ? merged.users.get(userName) : undefined;
    const tokenFile = user?.value.tokenFile;
    if (
      user !== undefined &&
      user.value.token === undefined &&
      typeof tokenFile === 'string' &&
      tokenFile !== ''
    ) {
      return { conn, tokenFile: isAbsolute(tokenFile) ? tokenFile : resolve(user.dir, tokenFile) };
    }
    return { conn };
  } catch (err) {
    if (err instanceof KubeconfigError) throw new AuthConfigError(`${flag}: ${err.message}`);
    throw err;
  }
}
