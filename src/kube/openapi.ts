/**
 * @module OpenAPI documents for the `core.kjournal/v1alpha1` group: `/openapi/v2` (Swagger 2.0)
 * and `/openapi/v3` with `/openapi/v3/apis/core.kjournal/v1alpha1`, so that `kubectl explain`
 * describes every field. Schemas carry `x-kubernetes-group-version-kind` as kube-apiserver's do.
 */
import { createHash } from 'node:crypto';
import { GROUP, GROUP_VERSION, RESOURCES, VERSION } from './resources.js';

type Schema = Record<string, unknown>;
type Ref = (name: string) => Schema;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const PREFIX = 'io.kjournal.core.v1alpha1';

const s = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const int = (description: string): Schema => ({ type: 'integer', format: 'int32', description });
const time = (description: string): Schema => ({ type: 'string', format: 'date-time', description });
const obj = (description: string, properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: 'object',
  description,
  properties,
  ...extra,
});
const stringMap = (description: string): Schema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string', default: '' },
});
const anything = (description: string): Schema => ({
  description,
  'x-kubernetes-preserve-unknown-fields': true,
});
const withRef = (ref: Schema, description: string): Schema => ({ description, allOf: [ref] });

const COMMON = (ref: Ref, kind: string): Record<string, Schema> => ({
  apiVersion: s(`APIVersion of this object: ${GROUP_VERSION}.`),
  kind: s(`Kind of this object: ${kind}.`),
  metadata: withRef(
    ref(`${META}.ObjectMeta`),
    "Standard object metadata. `name` is `<prefix>.<timestamp ns>.<sequence number>`, stable and unique; `creationTimestamp` is the time of the entry in seconds, the annotation `core.kjournal/timestamp` holds it in nanoseconds; `resourceVersion` is the entry's sequence number.",
  ),
});

function schemas(ref: Ref): Record<string, Schema> {
  const gvk = (kind: string) => ({
    'x-kubernetes-group-version-kind': [{ group: GROUP, version: VERSION, kind }],
  });
  const list = (kind: string, description: string): Schema =>
    obj(
      description,
      {
        apiVersion: s('APIVersion of this list.'),
        kind: s('Kind of this list.'),
        metadata: withRef(ref(`${META}.ListMeta`), 'Standard list metadata: resourceVersion and continue.'),
        items: { type: 'array', description: `The ${kind}s.`, items: ref(`${PREFIX}.${kind}`) },
      },
      { required: ['items'], ...gvk(`${kind}List`) },
    );
  const objectReference = obj('A reference to a Kubernetes object.', {
    apiVersion: s('API version of the referent.'),
    kind: s('Kind of the referent.'),
    name: s('Name of the referent.'),
    namespace: s('Namespace of the referent.'),
    uid: s('UID of the referent.'),
    resourceVersion: s('Resource version of the referent.'),
    fieldPath: s('A field of the referent, such as a container: spec.containers{name}.'),
  });
  return {
    [`${META}.ObjectMeta`]: obj('Standard object metadata.', {
      name: s('Name of the object, unique in its namespace.'),
      namespace: s('Namespace of the object (namespaced resources only).'),
      uid: s('A stable unique identifier of the object.'),
      resourceVersion: s('The version of the object: the store sequence number of the entry.'),
      creationTimestamp: time('When the entry was written, in seconds (RFC 3339).'),
      labels: stringMap("Labels: the pod labels of a container log; the event's own labels."),
      annotations: stringMap('Annotations: core.kjournal/timestamp holds the time in nanoseconds.'),
    }),
    [`${META}.ListMeta`]: obj('Standard list metadata.', {
      resourceVersion: s('The version of the list: watch from it to see what came after.'),
      continue: s('Set when more items exist: pass it as `continue` to read the next page.'),
      remainingItemCount: { type: 'integer', format: 'int64', description: 'Not set by kjournal.' },
    }),
    [`${PREFIX}.ObjectReference`]: objectReference,
    [`${PREFIX}.ContainerLog`]: obj(
      'ContainerLog is one line that a container wrote, kept in kjournal for the long term.',
      {
        ...COMMON(ref, 'ContainerLog'),
        pod: s('The pod that ran the container.'),
        container: s('The container that wrote the line.'),
        node: s('The node the pod ran on.'),
        stream: s('stdout or stderr.'),
        payload: anything('The line: the parsed JSON object when the line is a JSON object, else its text.'),
      },
      gvk('ContainerLog'),
    ),
    [`${PREFIX}.ContainerLogList`]: list('ContainerLog', 'A list of container log lines.'),
    [`${PREFIX}.EventSeries`]: obj('Data about a series of repeated events.', {
      count: int('How many times the event has happened so far.'),
      lastObservedTime: time('When the last event of the series was seen.'),
    }),
    [`${PREFIX}.EventSource`]: obj('The component that reported a core/v1 event.', {
      component: s('The component.'),
      host: s('The node name.'),
    }),
    [`${PREFIX}.Event`]: obj(
      "Event is a Kubernetes event in the events.k8s.io/v1 shape, converted from core/v1 events where needed, kept beyond the cluster's one hour.",
      {
        ...COMMON(ref, 'Event'),
        regarding: withRef(ref(`${PREFIX}.ObjectReference`), 'The object this event is about.'),
        related: withRef(ref(`${PREFIX}.ObjectReference`), 'A secondary object, for more complex actions.'),
        note: s('A human-readable description of the status of this operation.'),
        reason: s('Why the action was taken, in UpperCamelCase.'),
        type: s('Normal or Warning.'),
        eventTime: time('When this event was first observed (MicroTime).'),
        series: withRef(ref(`${PREFIX}.EventSeries`), 'Data about the event series this event represents.'),
        reportingController: s('The controller that emitted this event, e.g. kubernetes.io/kubelet.'),
        reportingInstance: s('The ID of the controller instance.'),
        action: s('What action was taken or failed regarding the object.'),
        deprecatedSource: withRef(ref(`${PREFIX}.EventSource`), 'The source of a core/v1 event.'),
        deprecatedFirstTimestamp: time('The core/v1 firstTimestamp.'),
        deprecatedLastTimestamp: time('The core/v1 lastTimestamp.'),
        deprecatedCount: int('The core/v1 count.'),
      },
      gvk('Event'),
    ),
    [`${PREFIX}.EventList`]: list('Event', 'A list of events.'),
    [`${PREFIX}.UserInfo`]: obj('A user, as the authenticator saw it.', {
      username: s('The name of the user.'),
      uid: s('A unique value that identifies the user across time.'),
      groups: { type: 'array', description: 'The groups the user is in.', items: { type: 'string' } },
      extra: {
        type: 'object',
        description: 'Extra information.',
        additionalProperties: { type: 'array', items: { type: 'string' } },
      },
    }),
    [`${PREFIX}.AuditObjectReference`]: obj('The object a request is about.', {
      resource: s('The resource.'),
      namespace: s('The namespace.'),
      name: s('The name.'),
      uid: s('The uid.'),
      apiGroup: s('The API group; empty for core.'),
      apiVersion: s('The API version.'),
      resourceVersion: s('The resource version.'),
      subresource: s('The subresource.'),
    }),
    [`${PREFIX}.ResponseStatus`]: obj('The response status of a request.', {
      code: int('The HTTP status code.'),
      status: s('Success or Failure.'),
      reason: s('The Kubernetes reason.'),
      message: s('The message.'),
      metadata: { type: 'object', description: 'List metadata of the status.' },
    }),
    [`${PREFIX}.AuditEvent`]: obj(
      'AuditEvent is a kube-apiserver audit event (audit.k8s.io/v1 Event), kept in kjournal for the long term.',
      {
        ...COMMON(ref, 'AuditEvent'),
        level: s('The audit level: Metadata, Request or RequestResponse.'),
        auditID: s('The unique audit ID of the request.'),
        stage: s('RequestReceived, ResponseStarted, ResponseComplete or Panic.'),
        requestURI: s('The request URI.'),
        verb: s('The Kubernetes verb: get, list, watch, create, update, patch, delete...'),
        user: withRef(ref(`${PREFIX}.UserInfo`), 'The authenticated user.'),
        impersonatedUser: withRef(ref(`${PREFIX}.UserInfo`), 'The impersonated user.'),
        sourceIPs: { type: 'array', description: 'Where the request came from.', items: { type: 'string' } },
        userAgent: s('The user agent of the client.'),
        objectRef: withRef(ref(`${PREFIX}.AuditObjectReference`), 'The object the request is about.'),
        responseStatus: withRef(ref(`${PREFIX}.ResponseStatus`), 'The response status.'),
        requestObject: anything('The request body (level Request and above).'),
        responseObject: anything('The response body (level RequestResponse).'),
        requestReceivedTimestamp: time('When the request reached the apiserver (MicroTime).'),
        stageTimestamp: time('When the request reached this stage (MicroTime).'),
        annotations: stringMap('Annotations of the audit event (authorization decision, ...).'),
      },
      gvk('AuditEvent'),
    ),
    [`${PREFIX}.AuditEventList`]: list('AuditEvent', 'A list of audit events.'),
    [`${PREFIX}.Log`]: obj(
      'Log is one line of a node or runtime log (journal, syslog, Kata), kept in kjournal for the long term.',
      {
        ...COMMON(ref, 'Log'),
        node: s('The node the line comes from.'),
        source: s('The log it comes from: journal, syslog, kata...'),
        program: s("The program that wrote the line: syslog's APP-NAME, journald's SYSLOG_IDENTIFIER."),
        payload: anything('The line: the parsed JSON object when the line is a JSON object, else its text.'),
      },
      gvk('Log'),
    ),
    [`${PREFIX}.LogList`]: list('Log', 'A list of node log lines.'),
  };
}

function operation(resource: (typeof RESOURCES)[number], ref: Ref, list: boolean, v3: boolean): Schema {
  const target = ref(`${PREFIX}.${list ? `${resource.kind}List` : resource.kind}`);
  const ok = v3
    ? { description: 'OK', content: { 'application/json': { schema: target } } }
    : { description: 'OK', schema: target };
  return {
    description: `${list ? 'list or watch' : 'read'} ${resource.kind} objects`,
    operationId: `${list ? 'list' : 'read'}CoreKjournalV1alpha1${resource.namespaced ? 'Namespaced' : ''}${resource.kind}`,
    tags: ['coreKjournal_v1alpha1'],
    responses: { '200': ok },
    'x-kubernetes-action': list ? 'list' : 'get',
    'x-kubernetes-group-version-kind': { group: GROUP, version: VERSION, kind: resource.kind },
  };
}

function paths(ref: Ref, v3: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const base = `/apis/${GROUP_VERSION}`;
  for (const r of RESOURCES) {
    const scoped = r.namespaced ? `${base}/namespaces/{namespace}/${r.name}` : `${base}/${r.name}`;
    out[scoped] = { get: operation(r, ref, true, v3) };
    out[`${scoped}/{name}`] = { get: operation(r, ref, false, v3) };
    if (r.namespaced) out[`${base}/${r.name}`] = { get: operation(r, ref, true, v3) };
  }
  return out;
}

export function openApiV2(version: string): unknown {
  const ref: Ref = (name) => ({ $ref: `#/definitions/${name}` });
  return {
    swagger: '2.0',
    info: { title: 'kjournal', version },
    paths: paths(ref, false),
    definitions: schemas(ref),
  };
}

export function openApiV3Group(version: string): unknown {
  const ref: Ref = (name) => ({ $ref: `#/components/schemas/${name}` });
  return {
    openapi: '3.0.0',
    info: { title: 'kjournal', version },
    paths: paths(ref, true),
    components: { schemas: schemas(ref) },
  };
}

let groupHash: string | undefined;

export function openApiV3Root(version: string): unknown {
  groupHash ??= createHash('sha512')
    .update(JSON.stringify(openApiV3Group(version)))
    .digest('hex')
    .slice(0, 128)
    .toUpperCase();
  return {
    paths: {
      [`apis/${GROUP_VERSION}`]: { serverRelativeURL: `/openapi/v3/apis/${GROUP_VERSION}?hash=${groupHash}` },
    },
  };
}
