/**
 * @module The pods source's section of the agent configuration and its flags:
 *
 * ```yaml
 * pods: { dir: /var/log/pods, labels: true }  # labels: pod labels from the API (an informer;
 *                                             #   pods.kubeconfig, else the in-cluster config)
 * ```
 *
 * Flags: `--pods-dir DIR`, `--pod-labels`, and `--kubeconfig` (shared with the events source).
 */
import { ConfigError, section, show, str } from '../config-values.js';

export const DEFAULT_PODS_DIR = '/var/log/pods';

export interface PodsSection {
  readonly dir: string;
  /** Add each pod's labels (`kubernetes_labels_*`), watched through the Kubernetes API. */
  readonly labels?: boolean;
  /** For `labels`; absent: the in-cluster configuration. */
  readonly kubeconfig?: string;
}

export interface PodsFlags {
  podsDir?: string;
  /** `--pod-labels`: the pods source adds pod labels from the API. */
  podLabels?: boolean;
  kubeconfig?: string;
}

export function podsFromFile(value: unknown): PodsSection {
  const s = section(value, 'pods', ['dir', 'labels', 'kubeconfig']);
  if (s.labels !== undefined && typeof s.labels !== 'boolean')
    throw new ConfigError(`pods.labels: must be true or false, got ${show(s.labels)}`);
  const kubeconfig = str(s.kubeconfig, 'pods.kubeconfig');
  if (kubeconfig !== undefined && s.labels !== true)
    throw new ConfigError('pods.kubeconfig: only used with pods.labels: true');
  return {
    dir: str(s.dir, 'pods.dir') ?? DEFAULT_PODS_DIR,
    ...(s.labels === true ? { labels: true } : {}),
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
  };
}

/** The flags over the file's section (a flag wins). */
export function podsWithFlags(s: PodsSection | undefined, flags: PodsFlags): PodsSection | undefined {
  let out = s;
  if (flags.podsDir !== undefined) out = { ...out, dir: flags.podsDir };
  if (flags.podLabels) out = { dir: DEFAULT_PODS_DIR, ...out, labels: true };
  if (flags.kubeconfig !== undefined && out?.labels) out = { ...out, kubeconfig: flags.kubeconfig };
  return out;
}
