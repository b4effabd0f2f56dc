/**
 * @module Kubernetes events in the shapes people keep them: core/v1 and events.k8s.io/v1 Events,
 * lists of them (`kubectl get events -o json` prints a List, the API an EventList), eventrouter's
 * lines `{"verb":"ADDED","event":{...}}` and watch events `{"type":"ADDED","object":{...}}`.
 * An event's time is the newest it carries: a repeated event records its latest occurrence there.
 */
import type { Attributes, Labels } from '../model/record.js';
import { isAuditApiVersion } from './audit.js';
import { JsonObjectAssembler } from './json-objects.js';
import { child, isObj, type Obj, scalar } from './json-util.js';
import { parseRfc3339Fast } from './time-value.js';
import type { LineParser, ParserFactory } from './types.js';

/** Looks like one event: kind Event (not audit's), or the involved object an event always names. */
export function isKubeEvent(o: Obj): boolean {
  if (isAuditApiVersion(o)) return false;
  if (o.kind === 'Event') return true;
  return o.kind === undefined && (isObj(o.involvedObject) || isObj(o.regarding));
}

/** The event inside an eventrouter line or a watch event, if `o` is one. */
export function wrappedEvent(o: Obj): Obj | undefined {
  if (typeof o.verb === 'string' && isObj(o.event)) return o.event;
  if (typeof o.type === 'string' && isObj(o.object) && isKubeEvent(o.object)) return o.object;
  return undefined;
}

export function isEventList(o: Obj): boolean {
  return Array.isArray(o.items) && (o.kind === 'EventList' || o.kind === 'List') && !isAuditApiVersion(o);
}

/** The newest of the times an event may carry; undefined when it has none. */
export function eventTimestamp(e: Obj): bigint | undefined {
  const meta = child(e, 'metadata');
  const series = child(e, 'series');
  const candidates = [
    scalar(e, 'eventTime'),
    scalar(e, 'lastTimestamp'),
    scalar(e, 'deprecatedLastTimestamp'),
    scalar(series, 'lastObservedTime'),
    scalar(e, 'firstTimestamp'),
    scalar(e, 'deprecatedFirstTimestamp'),
    scalar(meta, 'creationTimestamp'),
  ];
  let newest: bigint | undefined;
  for (const c of candidates) {
    const ns = c === undefined ? undefined : parseRfc3339Fast(c);
    if (ns !== undefined && (newest === undefined || ns > newest)) newest = ns;
  }
  return newest;
}

export function eventAttributes(e: Obj): Attributes {
  const regarding = child(e, 'involvedObject') ?? child(e, 'regarding');
  const meta = child(e, 'metadata');
  const pairs: [string, string | undefined][] = [
    ['reason', scalar(e, 'reason')],
    ['type', scalar(e, 'type')],
    ['regarding_kind', scalar(regarding, 'kind')],
    ['regarding_name', scalar(regarding, 'name')],
    ['event_uid', scalar(meta, 'uid')],
    ['resourceVersion', scalar(meta, 'resourceVersion')],
    ['count', scalar(e, 'count') ?? scalar(child(e, 'series'), 'count') ?? scalar(e, 'deprecatedCount')],
  ];
  const out: Attributes = {};
  for (const [k, v] of pairs) if (v !== undefined) out[k] = v;
  return out;
}

export const eventsParser: ParserFactory = (_ctx, sink): LineParser => {
  const labelsByNs = new Map<string, Labels>();
  const labelsFor = (ns: string): Labels => {
    let l = labelsByNs.get(ns);
    if (l === undefined) {
      l = ns === '' ? { kind: 'event' } : { kind: 'event', namespace: ns };
      labelsByNs.set(ns, l);
    }
    return l;
  };
  const one = (e: Obj, body: string | undefined, lineNo: number, where: string): void => {
    const ts = eventTimestamp(e);
    if (ts === undefined) {
      sink.malformed(lineNo, `${where}event without a timestamp`);
      return;
    }
    const regarding = child(e, 'involvedObject') ?? child(e, 'regarding');
    sink.entry(
      labelsFor(scalar(regarding, 'namespace') ?? ''),
      ts,
      body ?? JSON.stringify(e),
      eventAttributes(e),
    );
  };
  const assembler = new JsonObjectAssembler({
    malformed: (lineNo, reason) => sink.malformed(lineNo, reason),
    object(text, lineNo) {
      let o: unknown;
      try {
        o = JSON.parse(text);
      } catch (err) {
        sink.malformed(lineNo, `bad JSON: ${(err as Error).message}`);
        return;
      }
      if (!isObj(o)) {
        sink.malformed(lineNo, 'not a JSON object');
        return;
      }
      const inner = wrappedEvent(o);
      if (inner !== undefined) {
        one(inner, undefined, lineNo, '');
      } else if (isEventList(o)) {
        (o.items as unknown[]).forEach((item, i) => {
          if (isObj(item) && isKubeEvent(item)) one(item, undefined, lineNo, `items[${i}]: `);
          else sink.malformed(lineNo, `items[${i}]: not a Kubernetes event`);
        });
      } else if (isKubeEvent(o)) {
        // A one-line event is kept exactly as written; a pretty-printed one is stored compact.
        one(o, text.includes('\n') ? undefined : text, lineNo, '');
      } else {
        sink.malformed(lineNo, 'not a Kubernetes event');
      }
    },
  });
  return {
    line: (text, lineNo) => assembler.line(text, lineNo),
    end: () => assembler.end(),
  };
};
