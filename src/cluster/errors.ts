/**
 * @module The one error of talking to a Kubernetes cluster as kubectl does: a kubeconfig that cannot
 * be read or names what it does not have, or an exec credential plugin that fails. One line for a
 * person; the client library answers it as its own ClientError, the authorizer as AuthConfigError.
 */

export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}
