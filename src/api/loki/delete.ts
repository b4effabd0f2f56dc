/**
 * @module `/loki/api/v1/delete`: Loki's log deletion API (pkg/compactor/deletion/request_handler.go),
 * with its parameters, texts and statuses:
 *
 * - `POST ?query=<selector with line filters>&start=<unix seconds|RFC 3339>&end=...`: 204. `end`
 *   defaults to now; Loki's times have millisecond precision and `end` is inclusive.
 * - `GET`: the tenant's requests as JSON, `[{request_id, start_time, end_time, query, status,
 *   created_at}]`, times in seconds as Prometheus's model.Time prints them.
 * - `DELETE ?request_id=...`: cancels a request not yet processed, 204.
 *
 * Authorization: a request needs `delete` on the resource of every stream it selects, in that
 * stream's namespace (auth/writes.ts, as a write needs `create`): audit events only for those allowed
 * to delete audit events. Listing needs `list` and cancelling `delete` on `deleterequests`.
 */
import { requireOnRecords } from '../../auth/writes.js';
import {
  DeleteRequestError,
  type DeleteRequests,
  parseDeletionQuery,
} from '../../lifecycle/delete-requests.js';
import type { LabelMatcher } from '../../logql/ast.js';
import { labelValue } from '../../model/kube-meta.js';
import type { Labels } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import type { Queries } from '../../query/queries.js';
import { badRequest, HttpError } from '../http/errors.js';
import { type Handler, json } from '../http/router.js';

const RESOURCES = ['containerlogs', 'events', 'auditevents', 'logs'];

/** Whether `access` may delete every kind of record in every namespace. */
async function allowedEverywhere(access: Parameters<Handler>[0]['access']): Promise<boolean> {
  for (const resource of RESOURCES) {
    if (!(await access.allowed({ verb: 'delete', resource, namespace: '' }))) return false;
  }
  return true;
}

/** Matchers that confine a deletion to the kinds and namespaces of `labels` (the streams it selects now). */
function scopeOf(labels: readonly Labels[]): LabelMatcher[] {
  const kinds = new Set<string>();
  const namespaces = new Set<string>();
  let clusterScoped = false;
  for (const l of labels) {
    if (l.kind) kinds.add(l.kind);
    const ns = labelValue(l, 'namespace');
    if (ns) namespaces.add(ns);
    else clusterScoped = true;
  }
  const alternation = (values: Set<string>) =>
    [...values].map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const out: LabelMatcher[] = [{ name: 'kind', op: '=~', value: alternation(kinds) }];
  if (!clusterScoped) out.push({ name: 'namespace', op: '=~', value: alternation(namespaces) });
  return out;
}

export interface DeleteOptions {
  readonly requests: DeleteRequests;
  /** The query operations on the store (src/query/queries.ts). */
  readonly queries: Queries;
  readonly now?: () => bigint;
}

const MS = 1_000_000n;

/** Loki's parseTime: RFC 3339, or exactly ten digits of Unix seconds; milliseconds, as nanoseconds. */
function parseTime(text: string, now: bigint): bigint {
  if (text === '') return (now / MS) * MS;
  const t = Date.parse(text);
  if (/^\d{4}-\d\d-\d\dT/.test(text) && !Number.isNaN(t)) return BigInt(t) * MS;
  if (!/^\d{10}$/.test(text)) throw new Error('not unix seconds');
  return BigInt(text) * 1000n * MS;
}

/** A time in seconds as Prometheus's model.Time prints it in JSON (milliseconds, no trailing zeros). */
function modelTime(ns: bigint): number {
  return Number(ns / MS) / 1000;
}

function deleteError(err: unknown): never {
  if (err instanceof DeleteRequestError) throw new HttpError(err.status, err.message, { cause: err });
  throw err;
}

export function deleteHandler(opts: DeleteOptions): Handler {
  const now = opts.now ?? nowNs;
  return async ({ req, params, access }) => {
    const tenant = access.tenant;
    switch (req.method) {
      case 'GET': {
        await access.require([{ verb: 'list', resource: 'deleterequests' }]);
        return json(
          200,
          opts.requests.list(tenant).map((r) => ({
            request_id: r.id,
            start_time: modelTime(r.start),
            end_time: modelTime(r.end),
            query: r.query,
            status: r.status,
            created_at: modelTime(r.createdAt),
          })),
        );
      }
      case 'DELETE': {
        await access.require([{ verb: 'delete', resource: 'deleterequests' }]);
        await opts.requests.cancel(tenant, params.get('request_id') ?? '').catch(deleteError);
        return { status: 204 };
      }
      default: {
        const query = params.get('query') ?? '';
        if (query === '') throw badRequest('query not set');
        let selection: ReturnType<typeof parseDeletionQuery>;
        try {
          selection = parseDeletionQuery(query);
        } catch (err) {
          throw err instanceof DeleteRequestError ? badRequest(err.message) : err;
        }
        const t = now();
        const startText = params.get('start') ?? '';
        if (startText === '') throw badRequest('start time not set');
        let start: bigint;
        let end: bigint;
        try {
          start = parseTime(startText, t);
        } catch {
          throw badRequest('invalid start time: require unix seconds or RFC3339 format');
        }
        try {
          end = parseTime(params.get('end') ?? '', t);
        } catch {
          throw badRequest('invalid end time: require unix seconds or RFC3339 format');
        }
        if (end > t) throw badRequest('deletes in the future are not allowed');
        if (start > end) throw badRequest("start time can't be greater than end time");
        // The end is inclusive to the millisecond.
        const through = end + MS - 1n;
        const streams = await opts.queries.streamLabels({
          tenant,
          matchers: selection.matchers,
          start,
          end: through + 1n,
        });
        const records = streams.map((labels) => ({ labels, attributes: {}, body: '' }));
        // A request stays in force for entries that arrive later: one whose user may not delete
        // everywhere is confined to the kinds and namespaces of what it selects now, which were
        // authorized; one that selects nothing yet needs the right everywhere.
        const everywhere = await allowedEverywhere(access);
        if (records.length === 0 && !everywhere) {
          await access.require(RESOURCES.map((resource) => ({ verb: 'delete', resource, namespace: '' })));
        }
        await requireOnRecords(access, 'delete', records);
        const scope = everywhere ? [] : scopeOf(streams);
        await opts.requests.add(tenant, query, start, through, scope).catch(deleteError);
        return { status: 204 };
      }
    }
  };
}
