/**
 * @module The one decision for reads of log data outside the Kubernetes API: Loki's read endpoints,
 * LokiStack's class paths, the tail WebSocket and korrel8r. Today a read needs `list` (`watch` for
 * the tail) on every resource the path can return, cluster-wide: all four (containerlogs, events,
 * auditevents, logs) on Loki's paths and korrel8r's, only those of the class on LokiStack's
 * (application: containerlogs and events; infrastructure: those and logs; audit: auditevents).
 *
 * Every such read goes through `authorizeLogRead`, before its query is queued or parsed: the HTTP
 * endpoints through `logRead(handler)` (wrapped around each route where it is registered,
 * src/server/app.ts), the tail from its upgrade (api/loki/tail.ts). The decision sees the request's
 * parameters (`query`, `match[]`, ...) so that it can be narrowed to what the query selects without
 * changing any caller.
 */
import type { Access, ResourceWant } from '../../auth/index.js';
import type { LabelMatcher } from '../../store/store.js';
import type { Handler } from '../http/router.js';

const ALL_RESOURCES = ['containerlogs', 'events', 'auditevents', 'logs'] as const;
const CLASS_RESOURCES: Readonly<Record<string, readonly string[]>> = {
  application: ['containerlogs', 'events'],
  infrastructure: ['containerlogs', 'events', 'logs'],
  audit: ['auditevents'],
};

/** A read of log data, as the decision sees it. */
export interface LogRead {
  /** `list` for the HTTP endpoints, `watch` for the tail. */
  readonly verb: 'list' | 'watch';
  /** The request's parameters: query string, or form fields of a POSTed form. */
  readonly params: URLSearchParams;
  /** The class of a LokiStack path (`/api/logs/v1/<class>/...`). */
  readonly classRestriction?: string;
  /** The matchers a restricted path adds to every selector (a class, a namespace: lokistack.ts). */
  readonly restriction?: readonly LabelMatcher[];
}

/** The resources a read can return. */
export function readableResources(classRestriction: string | undefined): readonly string[] {
  return classRestriction === undefined
    ? ALL_RESOURCES
    : (CLASS_RESOURCES[classRestriction] ?? ALL_RESOURCES);
}

/** Throws ForbiddenError unless `access` may make this read. */
export async function authorizeLogRead(access: Access, read: LogRead): Promise<void> {
  const wants: ResourceWant[] = readableResources(read.classRestriction).map((resource) => ({
    verb: read.verb,
    resource,
    namespace: '',
  }));
  await access.require(wants);
}

/** A read handler that runs only once `authorizeLogRead` allowed the request. */
export function logRead(handler: Handler): Handler {
  return async (ctx) => {
    await authorizeLogRead(ctx.access, {
      verb: 'list',
      params: ctx.params,
      ...(ctx.classRestriction === undefined ? {} : { classRestriction: ctx.classRestriction }),
      ...(ctx.restriction === undefined ? {} : { restriction: ctx.restriction }),
    });
    return handler(ctx);
  };
}
