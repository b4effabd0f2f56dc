/**
 * @module Labels and attributes of a container log: the pod identity is low-cardinality and goes into
 * labels; the pod UID and restart count change with every restart and go into attributes.
 */
import type { Attributes, Labels } from '../model/record.js';
import type { FileContext } from './types.js';

export interface ContainerStreams {
  labels(stream: string): Labels;
  readonly attributes: Attributes | undefined;
}

/** One labels object per stream name (stdout/stderr) for the file, reused for every entry. */
export function containerStreams(ctx: FileContext): ContainerStreams {
  const pod = ctx.pod;
  const base: Labels = { kind: 'containerlog' };
  if (pod) {
    base.namespace = pod.namespace;
    base.pod = pod.pod;
    base.container = pod.container;
  }
  let attributes: Attributes | undefined;
  if (pod && (pod.uid !== undefined || pod.restartCount !== undefined || pod.containerId !== undefined)) {
    attributes = {};
    if (pod.uid !== undefined) attributes.pod_uid = pod.uid;
    if (pod.restartCount !== undefined) attributes.restart_count = String(pod.restartCount);
    if (pod.containerId !== undefined) attributes.container_id = pod.containerId;
  }
  const byStream = new Map<string, Labels>();
  return {
    attributes,
    labels(stream: string): Labels {
      let l = byStream.get(stream);
      if (l === undefined) {
        l = { ...base, stream };
        byStream.set(stream, l);
      }
      return l;
    },
  };
}
