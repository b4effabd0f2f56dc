/**
 * @module A kubeconfig for a test's fake kube-apiserver on 127.0.0.1 (plain HTTP, bearer token
 * `recorded`).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Writes `<dir>/kubeconfig` pointing at `http://127.0.0.1:<port>`; resolves with its path. */
export async function writeTestKubeconfig(dir: string, port: number): Promise<string> {
  const path = join(dir, 'kubeconfig');
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      // client-node allows plain HTTP only with insecure-skip-tls-verify.
      `- name: rec\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true`,
      'users:',
      '- name: rec\n  user:\n    token: recorded',
      'contexts:',
      '- name: rec\n  context:\n    cluster: rec\n    user: rec',
      'current-context: rec',
      '',
    ].join('\n'),
  );
  return path;
}
