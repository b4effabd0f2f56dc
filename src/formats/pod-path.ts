/**
 * @module What a container log's path tells: the kubelet keeps
 * `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log` (rotated to
 * `<restart>.log.<YYYYMMDD-hhmmss>`, then `.gz`), and links
 * `/var/log/containers/<pod>_<namespace>_<container>-<container id>.log` to it. Namespace and pod
 * names cannot hold `_`, so splitting on it is exact.
 */
import { basename, dirname } from 'node:path';
import type { PodLogMeta } from './types.js';

const POD_DIR = /^([a-z0-9][a-z0-9-]*)_([^_]+)_([^_]+)$/;
const POD_FILE = /^(\d+)\.log(?:\.\d{8}-\d{6})?(?:\.gz)?$/;
const CONTAINERS_FILE = /^([^_]+)_([a-z0-9][a-z0-9-]*)_(.+)-([0-9a-f]{64})\.log$/;

export function podLogMeta(path: string): PodLogMeta | undefined {
  const file = basename(path);
  const m = POD_FILE.exec(file);
  if (m) {
    const containerDir = dirname(path);
    const pd = POD_DIR.exec(basename(dirname(containerDir)));
    const container = basename(containerDir);
    if (pd && container !== '' && container !== '.') {
      const [, namespace = '', pod = '', uid = ''] = pd;
      return { namespace, pod, uid, container, restartCount: Number(m[1]) };
    }
  }
  const c = CONTAINERS_FILE.exec(file);
  if (c) {
    const [, pod = '', namespace = '', container = '', containerId = ''] = c;
    return { namespace, pod, container, containerId };
  }
  return undefined;
}
