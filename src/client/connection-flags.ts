/**
 * @module The connection flags' parsed values, as commander names them: what options.ts defines,
 * env.ts fills from the environment and connection.ts resolves (its own file, so that neither of
 * the first two imports the other for it).
 */
/** The parsed flags, as commander names them. */
export interface ConnectionFlags {
  server?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  insecureSkipTlsVerify?: boolean;
  kubeconfig?: string;
  context?: string;
  tenant?: string;
  verbose?: boolean;
}
