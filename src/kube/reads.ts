/**
 * @module The kube API's reads bound to one store: what the HTTP layer (src/api/kube/) holds, so
 * that it never reads a store itself (list.ts and watch.ts hold the operations).
 */
import type { Store } from '../store/store.js';
import { currentResourceVersion, type GetRequest, getObject, type ListRequest, listObjects } from './list.js';
import { type ReplayRequest, replayAfter } from './watch.js';

export function kubeReadsOn(store: Store) {
  return {
    list: (req: ListRequest) => listObjects(store, req),
    get: (req: GetRequest) => getObject(store, req),
    replay: (req: ReplayRequest) => replayAfter(store, req),
    /** The resourceVersion now: the store's newest sequence number. */
    version: () => currentResourceVersion(store),
  };
}

/** The kube API's reads on one store (see kubeReadsOn). */
export type KubeReads = ReturnType<typeof kubeReadsOn>;
