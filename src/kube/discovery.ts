/**
 * @module Discovery documents: `/api`, `/apis`, `/apis/core.kjournal`, the group version's
 * APIResourceList, `/version`, and aggregated discovery (apidiscovery.k8s.io/v2, what kubectl 1.30+
 * asks for first).
 */

import { parseAccept } from './accept.js';
import { CATEGORIES, GROUP, GROUP_VERSION, RESOURCES, VERBS, VERSION } from './resources.js';

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** The aggregated discovery version an Accept header asks for (its first listed one), if any. */
export function aggregatedVersion(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const { params } of parseAccept(accept)) {
    if (params.get('as') === 'APIGroupDiscoveryList' && params.get('g') === 'apidiscovery.k8s.io') {
      const v = params.get('v');
      if (v === 'v2' || v === 'v2beta1') return v;
    }
  }
  return undefined;
}

export function aggregatedContentType(v: 'v2' | 'v2beta1'): string {
  return v === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1;
}

export function apiVersions(serverAddress: string): unknown {
  // No core/v1 resources: `kubectl get events` then finds core.kjournal's events.
  return {
    kind: 'APIVersions',
    versions: [],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupVersion(): unknown {
  return { groupVersion: GROUP_VERSION, version: VERSION };
}

export function apiGroup(): unknown {
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: GROUP,
    versions: [groupVersion()],
    preferredVersion: groupVersion(),
  };
}

export function apiGroupList(): unknown {
  const { kind: _k, apiVersion: _a, ...group } = apiGroup() as Record<string, unknown>;
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [group] };
}

export function apiResourceList(): unknown {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GROUP_VERSION,
    resources: RESOURCES.map((r) => ({
      name: r.name,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: [...VERBS],
      ...(r.shortNames.length > 0 ? { shortNames: [...r.shortNames] } : {}),
      categories: [...CATEGORIES],
    })),
  };
}

/** The aggregated discovery document for `/apis` (or an empty one for `/api`). */
export function aggregatedDiscovery(v: 'v2' | 'v2beta1', legacy: boolean): unknown {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${v}`,
    metadata: {},
    items: legacy
      ? []
      : [
          {
            metadata: { name: GROUP },
            versions: [
              {
                version: VERSION,
                freshness: 'Current',
                resources: RESOURCES.map((r) => ({
                  resource: r.name,
                  responseKind: { group: GROUP, version: VERSION, kind: r.kind },
                  scope: r.namespaced ? 'Namespaced' : 'Cluster',
                  singularResource: r.singular,
                  verbs: [...VERBS],
                  ...(r.shortNames.length > 0 ? { shortNames: [...r.shortNames] } : {}),
                  categories: [...CATEGORIES],
                })),
              },
            ],
          },
        ],
  };
}

export function versionInfo(version: string): unknown {
  const [major = '0', minor = '0'] = version.split('.');
  return {
    major,
    minor,
    gitVersion: `v${version}`,
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch}`,
  };
}
