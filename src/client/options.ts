/**
 * @module The connection flags every command that talks to a kjournal server shares.
 * `--server` has no commander default so that `resolveConnection` can tell "given" from "not given":
 * a kubeconfig named by KUBECONFIG is only used when the server was not given on the command line
 * (nor by KJOURNAL_SERVER / LOKI_ADDR). Each flag's variables are in env.ts; a flag wins over them.
 */
import type { Command } from 'commander';
import { envHelp } from './env.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:3100';

export type { ConnectionFlags } from './connection-flags.js';

export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option(
      '--server <url>',
      `kjournal server URL (default: ${DEFAULT_SERVER}, or the kubeconfig's) ${envHelp('server')}`,
    )
    .option('--token <token>', `bearer token for the server ${envHelp('token')}`)
    .option(
      '--token-file <file>',
      `file holding the bearer token, re-read once a minute (rotated tokens) ${envHelp('tokenFile')}`,
    )
    .option('--username <name>', `user name for HTTP basic auth ${envHelp('username')}`)
    .option('--password <password>', `password for HTTP basic auth ${envHelp('password')}`)
    .option(
      '--certificate-authority <file>',
      `PEM file of the CA that signed the server certificate ${envHelp('certificateAuthority')}`,
    )
    .option('--client-certificate <file>', `PEM client certificate for TLS ${envHelp('clientCertificate')}`)
    .option('--client-key <file>', `PEM key of --client-certificate ${envHelp('clientKey')}`)
    .option(
      '--insecure-skip-tls-verify',
      `do not verify the server certificate (insecure) ${envHelp('insecureSkipTlsVerify')}`,
    )
    .option(
      '--kubeconfig <file>',
      'read the server, credentials and CA from this kubeconfig (also KUBECONFIG)',
    )
    .option(
      '--context <name>',
      `kubeconfig context to use (default: its current-context) ${envHelp('context')}`,
    )
    .option('--tenant <id>', `tenant, sent as X-Scope-OrgID ${envHelp('tenant')}`)
    .option('-v, --verbose', 'say which server and endpoint the command talks to, and from what settings');
}
