/**
 * @module The resources of the `core.kjournal/v1alpha1` API: names, kinds, scope, short names,
 * and which stored `kind` each one reads.
 */
import type { Kind } from '../model/record.js';

export const GROUP = 'core.kjournal';
export const VERSION = 'v1alpha1';
export const GROUP_VERSION = `${GROUP}/${VERSION}`;
export const VERBS = ['get', 'list', 'watch'] as const;
export const CATEGORIES = ['kjournal'] as const;

export interface KubeResource {
  /** Plural, as in the URL: `containerlogs`. */
  readonly name: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** The stored `kind` label of its records. */
  readonly storeKind: Kind;
}

export const RESOURCES: readonly KubeResource[] = [
  {
    name: 'containerlogs',
    singular: 'containerlog',
    kind: 'ContainerLog',
    listKind: 'ContainerLogList',
    namespaced: true,
    shortNames: ['clog'],
    storeKind: 'containerlog',
  },
  {
    name: 'events',
    singular: 'event',
    kind: 'Event',
    listKind: 'EventList',
    namespaced: true,
    shortNames: ['kev'],
    storeKind: 'event',
  },
  {
    name: 'auditevents',
    singular: 'auditevent',
    kind: 'AuditEvent',
    listKind: 'AuditEventList',
    namespaced: false,
    shortNames: ['kaudit'],
    storeKind: 'auditevent',
  },
  {
    name: 'logs',
    singular: 'log',
    kind: 'Log',
    listKind: 'LogList',
    namespaced: false,
    shortNames: [],
    storeKind: 'log',
  },
];

export function resourceByName(name: string): KubeResource | undefined {
  return RESOURCES.find((r) => r.name === name);
}
