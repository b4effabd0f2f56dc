/**
 * @module Applying a policy to an audit event that was already recorded, as kube-apiserver would
 * have recorded it under that policy: an event whose rule says `None`, or whose stage the rule
 * omits, is dropped; otherwise `level` becomes the applied level and what that level does not
 * record goes (`Metadata`: `requestObject` and `responseObject`; `Request`: `responseObject`);
 * with `omitManagedFields`, `metadata.managedFields` goes from both objects, from each item of a
 * list and from each row of a Table (a patch's request body is the patch itself, and kept as is,
 * as upstream does).
 *
 * A recorded event cannot gain what it was not recorded with: the applied level is the lower of
 * the policy's and the event's own `level`.
 */

import { isObj, type Obj } from '../../formats/json-util.js';
import type { LogRecord } from '../../model/record.js';
import { evaluateEvent } from './checker.js';
import { type AuditPolicy, isLevel, type Level, levelLess, type PolicyDecision } from './types.js';

export interface Applied {
  readonly decision: PolicyDecision;
  /** The event as it would be recorded; null when it would not be. */
  readonly event: Obj | null;
  /** Whether `event` differs from the input (the input itself is never changed). */
  readonly changed: boolean;
}

/** The object without `metadata.managedFields`; the same object when it has none. */
function withoutManagedFields(o: Obj): Obj {
  const meta = o.metadata;
  if (!isObj(meta) || !('managedFields' in meta)) return o;
  const { managedFields: _, ...rest } = meta;
  return { ...o, metadata: rest };
}

/** copyWithoutManagedFields: the object itself, the items of a list, the rows of a Table. */
export function stripManagedFields(value: unknown): unknown {
  if (!isObj(value)) return value;
  let changed = false;
  const strip = (o: Obj): Obj => {
    const r = withoutManagedFields(o);
    if (r !== o) changed = true;
    return r;
  };
  const out: Obj = { ...strip(value) };
  if (Array.isArray(value.items)) out.items = value.items.map((it) => (isObj(it) ? strip(it) : it));
  if (value.kind === 'Table' && Array.isArray(value.rows)) {
    out.rows = value.rows.map((row) =>
      isObj(row) && isObj(row.object) ? { ...row, object: strip(row.object) } : row,
    );
  }
  return changed ? out : value;
}

/** An event as a decision says to record it; null to drop it. */
export function applyDecision(decision: PolicyDecision, event: Obj): Applied {
  const drop = { decision, event: null, changed: true };
  if (decision.level === 'None') return drop;
  if (typeof event.stage === 'string' && (decision.omitStages as readonly string[]).includes(event.stage))
    return drop;
  const own = typeof event.level === 'string' && isLevel(event.level) ? event.level : undefined;
  const level: Level = own !== undefined && levelLess(own, decision.level) ? own : decision.level;
  const out: Obj = { ...event, level };
  let changed = event.level !== level;
  const remove = (key: string): void => {
    if (key in out) {
      delete out[key];
      changed = true;
    }
  };
  if (levelLess(level, 'Request')) remove('requestObject');
  if (levelLess(level, 'RequestResponse')) remove('responseObject');
  if (decision.omitManagedFields) {
    const keys = event.verb === 'patch' ? ['responseObject'] : ['requestObject', 'responseObject'];
    for (const key of keys) {
      if (!(key in out)) continue;
      const stripped = stripManagedFields(out[key]);
      if (stripped !== out[key]) {
        out[key] = stripped;
        changed = true;
      }
    }
  }
  return { decision, event: changed ? out : event, changed };
}

/** An event (the JSON object of an audit.k8s.io/v1 Event) as the policy would record it. */
export function applyPolicy(policy: AuditPolicy, event: Obj): Applied {
  return applyDecision(evaluateEvent(policy, event), event);
}

/** Thrown for a body that is not a JSON object. */
export class NotAnEventError extends Error {
  override readonly name = 'NotAnEventError';
}

/** The JSON object of an event's text; throws `NotAnEventError`. */
export function parseEvent(body: string): Obj {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (err) {
    throw new NotAnEventError(`audit event is not JSON: ${(err as Error).message}`);
  }
  if (!isObj(v)) throw new NotAnEventError('audit event is not a JSON object');
  return v;
}

/** The body as the policy would record it (null: dropped); the same string when unchanged. */
export function applyPolicyToBody(
  policy: AuditPolicy,
  body: string,
): { decision: PolicyDecision; body: string | null; level: Level | undefined } {
  const { decision, event, changed } = applyPolicy(policy, parseEvent(body));
  if (event === null) return { decision, body: null, level: undefined };
  return { decision, body: changed ? JSON.stringify(event) : body, level: event.level as Level };
}

/**
 * The record as the policy would keep it: null when dropped, the same record when unchanged,
 * else a new one with the new body and its `level` attribute (when it has one) updated.
 * Throws `NotAnEventError` for a body that is not a JSON object.
 */
export function applyPolicyToRecord(policy: AuditPolicy, record: LogRecord): LogRecord | null {
  const { body, level } = applyPolicyToBody(policy, record.body);
  if (body === null) return null;
  if (body === record.body) return record;
  const attributes =
    'level' in record.attributes && level !== undefined ? { ...record.attributes, level } : record.attributes;
  return { ...record, attributes, body };
}

/**
 * A batch through the policy, as `serve` and `agent` apply `--audit-policy`: audit events
 * (`kind=auditevent`) as the policy says, every other record untouched; `null` keeps everything.
 * An audit record whose body is not a JSON event is kept as it is (nothing to judge it by).
 */
export function applyPolicyToRecords(policy: AuditPolicy | null, records: readonly LogRecord[]): LogRecord[] {
  if (policy === null) return [...records];
  const out: LogRecord[] = [];
  for (const r of records) {
    if (r.labels.kind !== 'auditevent') {
      out.push(r);
      continue;
    }
    try {
      const kept = applyPolicyToRecord(policy, r);
      if (kept) out.push(kept);
    } catch (err) {
      if (!(err instanceof NotAnEventError)) throw err;
      out.push(r);
    }
  }
  return out;
}
