/**
 * @module kubectl's exec credential plugins (client.authentication.k8s.io): many managed clusters
 * (EKS, GKE, AKS) hand out tokens only this way, so a kubeconfig from them is useless without it.
 * Non-interactive only: kjournal never prompts.
 */
import { execFile } from 'node:child_process';
import { KubeconfigError } from './errors.js';

export interface ExecConfig {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly apiVersion: string;
}

export interface ExecCredential {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
}

const TIMEOUT_MS = 60_000;

export function runExecCredential(exec: ExecConfig): Promise<ExecCredential> {
  const info = { apiVersion: exec.apiVersion, kind: 'ExecCredential', spec: { interactive: false } };
  const env = { ...process.env, ...exec.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  return new Promise((resolve, reject) => {
    execFile(
      exec.command,
      [...exec.args],
      { env, timeout: TIMEOUT_MS, maxBuffer: 4 << 20 },
      (err, stdout, stderr) => {
        if (err) {
          const detail = String(stderr).trim().split('\n')[0] || err.message;
          reject(new KubeconfigError(`kubeconfig exec plugin ${exec.command} failed: ${detail}`));
          return;
        }
        let status: Record<string, unknown> | undefined;
        try {
          const parsed = JSON.parse(String(stdout)) as { status?: Record<string, unknown> };
          status = parsed.status;
        } catch {
          // handled below
        }
        if (status === undefined || status === null || typeof status !== 'object') {
          reject(
            new KubeconfigError(`kubeconfig exec plugin ${exec.command} printed no ExecCredential status`),
          );
          return;
        }
        const out: ExecCredential = {};
        if (typeof status.token === 'string') out.token = status.token;
        if (typeof status.clientCertificateData === 'string')
          out.cert = Buffer.from(status.clientCertificateData);
        if (typeof status.clientKeyData === 'string') out.key = Buffer.from(status.clientKeyData);
        resolve(out);
      },
    );
  });
}
