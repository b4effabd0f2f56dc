/**
 * @module The environment variables of the connection flags: `KJOURNAL_<FLAG>` for each shared flag,
 * then logcli's own names (`LOKI_ADDR`, `LOKI_BEARER_TOKEN`, ...: Loki's cmd/logcli/main.go reads
 * them through kingpin's `.Envar`) as fallbacks, so a shell set up for logcli works unchanged.
 * A flag on the command line wins over KJOURNAL_*, which wins over LOKI_*.
 */

import type { ConnectionFlags } from './connection-flags.js';
import { ClientError } from './errors.js';

type EnvFlag =
  | 'server'
  | 'token'
  | 'tokenFile'
  | 'username'
  | 'password'
  | 'certificateAuthority'
  | 'clientCertificate'
  | 'clientKey'
  | 'insecureSkipTlsVerify'
  | 'tenant'
  | 'context';

/** Each flag and the variables that stand in for it, first wins. */
export const CONNECTION_ENV: Readonly<Record<EnvFlag, readonly string[]>> = {
  server: ['KJOURNAL_SERVER', 'LOKI_ADDR'],
  token: ['KJOURNAL_TOKEN', 'LOKI_BEARER_TOKEN'],
  tokenFile: ['KJOURNAL_TOKEN_FILE', 'LOKI_BEARER_TOKEN_FILE'],
  username: ['KJOURNAL_USERNAME', 'LOKI_USERNAME'],
  password: ['KJOURNAL_PASSWORD', 'LOKI_PASSWORD'],
  certificateAuthority: ['KJOURNAL_CERTIFICATE_AUTHORITY', 'LOKI_CA_CERT_PATH'],
  clientCertificate: ['KJOURNAL_CLIENT_CERTIFICATE', 'LOKI_CLIENT_CERT_PATH'],
  clientKey: ['KJOURNAL_CLIENT_KEY', 'LOKI_CLIENT_KEY_PATH'],
  insecureSkipTlsVerify: ['KJOURNAL_INSECURE_SKIP_TLS_VERIFY', 'LOKI_TLS_SKIP_VERIFY'],
  tenant: ['KJOURNAL_TENANT', 'LOKI_ORG_ID'],
  context: ['KJOURNAL_CONTEXT'],
};

/** The help text's "(env: A, B)" for a flag. */
export function envHelp(flag: EnvFlag): string {
  return `(env: ${CONNECTION_ENV[flag].join(', ')})`;
}

/** Go's strconv.ParseBool, which kingpin uses for logcli's boolean variables. */
function parseBool(name: string, text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new ClientError(`${name}=${JSON.stringify(text)} is not a boolean (true, false, 1, 0)`);
}

/** The first variable of `names` set to something non-empty. */
function lookup(env: NodeJS.ProcessEnv, names: readonly string[]): [string, string] | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return [n, v];
  }
  return undefined;
}

/**
 * `flags` with what the command line left out filled from the environment, and the variables used
 * (for --verbose and messages). A token given one way (flag, or a file) is not mixed with one from
 * the environment given the other way: `--token` on the command line hides KJOURNAL_TOKEN_FILE.
 */
export function flagsFromEnv(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
): { flags: ConnectionFlags; used: string[] } {
  const out: ConnectionFlags = { ...flags };
  const used: string[] = [];
  const fill = (flag: 'server' | 'tenant' | 'context'): void => {
    if (out[flag] !== undefined) return;
    const hit = lookup(env, CONNECTION_ENV[flag]);
    if (!hit) return;
    out[flag] = hit[1];
    used.push(hit[0]);
  };
  fill('server');
  fill('tenant');
  fill('context');
  // The credentials as one choice: the command line's, else those of the best-ranked family of
  // variables (KJOURNAL_*, then LOKI_*): a token file, a token, or a user name and password.
  if (flags.token === undefined && flags.tokenFile === undefined && flags.username === undefined) {
    for (const rank of [0, 1]) {
      const pick = (flag: 'tokenFile' | 'token' | 'username' | 'password') => {
        const name = CONNECTION_ENV[flag][rank]!;
        const v = env[name];
        return v !== undefined && v !== '' ? ([name, v] as const) : undefined;
      };
      const file = pick('tokenFile');
      const token = pick('token');
      const user = pick('username');
      // Both a file and a token: the file, which can follow a rotated token.
      const chosen = file ? (['tokenFile', file] as const) : token ? (['token', token] as const) : undefined;
      if (chosen) {
        out[chosen[0]] = chosen[1][1];
        used.push(chosen[1][0]);
        break;
      }
      if (user) {
        out.username = user[1];
        used.push(user[0]);
        const pw = pick('password');
        if (out.password === undefined && pw) {
          out.password = pw[1];
          used.push(pw[0]);
        }
        break;
      }
    }
  }
  // The client certificate and key as a pair, from one family.
  if (flags.clientCertificate === undefined && flags.clientKey === undefined) {
    for (const rank of [0, 1]) {
      const certName = CONNECTION_ENV.clientCertificate[rank]!;
      const keyName = CONNECTION_ENV.clientKey[rank]!;
      if (!env[certName] && !env[keyName]) continue;
      if (env[certName]) {
        out.clientCertificate = env[certName];
        used.push(certName);
      }
      if (env[keyName]) {
        out.clientKey = env[keyName];
        used.push(keyName);
      }
      break;
    }
  }
  // TLS the same way: an explicit --insecure-skip-tls-verify or --certificate-authority is the choice.
  if (flags.insecureSkipTlsVerify === undefined && flags.certificateAuthority === undefined) {
    const insecure = lookup(env, CONNECTION_ENV.insecureSkipTlsVerify);
    const ca = lookup(env, CONNECTION_ENV.certificateAuthority);
    const skip = insecure ? parseBool(insecure[0], insecure[1]) : false;
    if (skip) {
      out.insecureSkipTlsVerify = true;
      used.push(insecure![0]);
    } else if (ca) {
      out.certificateAuthority = ca[1];
      used.push(ca[0]);
    }
  }
  return { flags: out, used };
}
