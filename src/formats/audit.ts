/**
 * @module Kubernetes audit logs: one audit.k8s.io Event per line, as kube-apiserver's log backend
 * writes them (an audit EventList, the webhook backend's batch, is taken apart too). The time is
 * `stageTimestamp`, when the event reached the stage it records, kept exact; the body is the line
 * itself so nothing the apiserver wrote is lost.
 */
import type { Attributes, Labels } from '../model/record.js';
import { child, isObj, type Obj, parseObject, scalar } from './json-util.js';
import { parseRfc3339Fast } from './time-value.js';
import type { LineParser, ParserFactory } from './types.js';

const LABELS: Labels = { kind: 'auditevent', class: 'audit' };

/** Attribute name → where it is in the event. */
const FIELDS: readonly (readonly [string, (e: Obj) => string | undefined])[] = [
  ['auditID', (e) => scalar(e, 'auditID')],
  ['stage', (e) => scalar(e, 'stage')],
  ['verb', (e) => scalar(e, 'verb')],
  ['level', (e) => scalar(e, 'level')],
  ['user_username', (e) => scalar(child(e, 'user'), 'username')],
  ['objectRef_resource', (e) => scalar(child(e, 'objectRef'), 'resource')],
  ['objectRef_namespace', (e) => scalar(child(e, 'objectRef'), 'namespace')],
  ['objectRef_name', (e) => scalar(child(e, 'objectRef'), 'name')],
  ['responseStatus_code', (e) => scalar(child(e, 'responseStatus'), 'code')],
];

export function auditAttributes(e: Obj): Attributes {
  const out: Attributes = {};
  for (const [name, get] of FIELDS) {
    const v = get(e);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

export function isAuditApiVersion(o: Obj): boolean {
  return typeof o.apiVersion === 'string' && o.apiVersion.startsWith('audit.k8s.io/');
}

export const auditParser: ParserFactory = (_ctx, sink): LineParser => {
  const one = (e: Obj, body: string, lineNo: number, where: string): void => {
    if (e.kind !== 'Event' && typeof e.auditID !== 'string') {
      sink.malformed(lineNo, `${where}not an audit event`);
      return;
    }
    const stamp = scalar(e, 'stageTimestamp') ?? scalar(e, 'requestReceivedTimestamp');
    const ts = stamp === undefined ? undefined : parseRfc3339Fast(stamp);
    if (ts === undefined) {
      sink.malformed(lineNo, `${where}audit event without a valid stageTimestamp`);
      return;
    }
    sink.entry(LABELS, ts, body, auditAttributes(e));
  };
  return {
    line(text, lineNo) {
      const o = parseObject(text);
      if (o === undefined) {
        sink.malformed(lineNo, 'not a JSON object');
        return;
      }
      if (Array.isArray(o.items) && o.kind === 'EventList') {
        o.items.forEach((item, i) => {
          if (isObj(item)) one(item, JSON.stringify(item), lineNo, `items[${i}]: `);
          else sink.malformed(lineNo, `items[${i}]: not an object`);
        });
        return;
      }
      one(o, text.trimEnd(), lineNo, '');
    },
    end() {},
  };
};
