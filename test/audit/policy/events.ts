/**
 * @module Audit events for the policy tests: `event()` builds the JSON object kube-apiserver
 * logs for a request, with its request and response objects (managed fields included).
 */

export type Obj = Record<string, unknown>;

export const managedFields = [
  {
    manager: 'kubectl',
    operation: 'Update',
    apiVersion: 'v1',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:data': {} },
  },
];

export interface EventSpec {
  verb?: string;
  user?: string;
  groups?: string[];
  stage?: string;
  level?: string;
  /** `group/resource/subresource` parts; absent for a non-resource request. */
  resource?: string;
  apiGroup?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  uri?: string;
  requestObject?: unknown;
  responseObject?: unknown;
}

export function event(s: EventSpec): Obj {
  const e: Obj = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: s.level ?? 'RequestResponse',
    auditID: '4f8ea6a0-3d1c-4f4b-9a39-000000000001',
    stage: s.stage ?? 'ResponseComplete',
    requestURI: s.uri ?? '/api/v1/namespaces/default/pods',
    verb: s.verb ?? 'create',
    user: { username: s.user ?? 'alice', groups: s.groups ?? ['system:authenticated'] },
    sourceIPs: ['10.0.0.1'],
  };
  if (s.resource !== undefined) {
    e.objectRef = {
      resource: s.resource,
      ...(s.namespace === undefined ? {} : { namespace: s.namespace }),
      ...(s.name === undefined ? {} : { name: s.name }),
      apiGroup: s.apiGroup ?? '',
      apiVersion: 'v1',
      ...(s.subresource === undefined ? {} : { subresource: s.subresource }),
    };
  }
  e.responseStatus = { metadata: {}, code: 200 };
  if (s.requestObject !== undefined) e.requestObject = s.requestObject;
  if (s.responseObject !== undefined) e.responseObject = s.responseObject;
  e.requestReceivedTimestamp = '2024-05-01T10:00:00.000000Z';
  e.stageTimestamp = '2024-05-01T10:00:00.010000Z';
  e.annotations = { 'authorization.k8s.io/decision': 'allow' };
  return e;
}

/** A ConfigMap as a request or response object. */
export function configMap(name: string): Obj {
  return {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: { name, namespace: 'default', managedFields },
    data: { k: 'v' },
  };
}
