/**
 * @module `--format auto`: which parser a file needs, from the first lines of its content (after
 * gunzip), and from its path when it sits in a pod log tree (those are CRI or docker, nothing else).
 */
import { isAuditApiVersion } from '../formats/audit.js';
import { isEventList, isKubeEvent, wrappedEvent } from '../formats/events.js';
import { parseObject } from '../formats/json-util.js';
import type { FormatName } from '../formats/line-parsers.js';

const CRI_PREFIX = /^\d{4}-\d{2}-\d{2}[Tt]\S+ (?:stdout|stderr) [PF](?::\S*)?(?: |$)/;

/**
 * `head` is the file's first lines (blank ones included). A multi-line JSON document is recognised
 * as events when its head names an event kind.
 */
export function detectFormat(head: readonly string[], inPodTree: boolean): FormatName {
  const first = head.find((l) => l.trim() !== '');
  if (first === undefined) return inPodTree ? 'cri' : 'logfmt';
  if (CRI_PREFIX.test(first)) return 'cri';
  const o = parseObject(first);
  if (o !== undefined) {
    if (typeof o.log === 'string' && typeof o.time === 'string') return 'docker';
    if (inPodTree) return 'cri';
    if (isAuditApiVersion(o)) return 'audit';
    if (isKubeEvent(o) || isEventList(o) || wrappedEvent(o) !== undefined) return 'events';
    return 'json';
  }
  if (inPodTree) return 'cri';
  if (first.trim().startsWith('{')) {
    const text = head.join('\n');
    if (/"kind"\s*:\s*"(?:EventList|Event|List)"/.test(text) && !/audit\.k8s\.io/.test(text)) return 'events';
    if (/"involvedObject"\s*:/.test(text)) return 'events';
    return 'json';
  }
  return 'logfmt';
}
