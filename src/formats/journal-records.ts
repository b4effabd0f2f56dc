/**
 * @module A journal entry as a record: the time from `__REALTIME_TIMESTAMP` (µs), the body from
 * `MESSAGE`, the usual journal fields as attributes, and Kata Containers' own structure: Kata
 * components (`SYSLOG_IDENTIFIER` `kata`, `kata-runtime`, `kata-shim`...) log `logfmt`
 * (`time=... level=info msg="..." source=virtcontainers sandbox=...`), or JSON with
 * `--log-format=json`; those fields become `kata_*` attributes, as Kata's own Fluentd guide does.
 */

import { flattenJson, safeName } from '../model/names.js';
import type { Attributes, Labels, LogRecord } from '../model/record.js';
import type { JournalEntry } from './journal-export.js';
import { parseLogfmt } from './logfmt.js';

/** Journal field → attribute name. */
export const JOURNAL_ATTRIBUTES: Readonly<Record<string, string>> = {
  _SYSTEMD_UNIT: 'systemd_unit',
  _SYSTEMD_USER_UNIT: 'systemd_user_unit',
  SYSLOG_IDENTIFIER: 'syslog_identifier',
  SYSLOG_FACILITY: 'syslog_facility',
  PRIORITY: 'priority',
  _HOSTNAME: 'hostname',
  _PID: 'pid',
  _COMM: 'comm',
  _TRANSPORT: 'transport',
  _BOOT_ID: 'boot_id',
  CONTAINER_NAME: 'container_name',
};

/**
 * The fields a record is made of, the time and the message first, then the attributes' (the
 * identifier, which tells Kata lines, and `_HOSTNAME`, the receiver's label, among them): a reader
 * that wants only records may leave the others undecoded (ExportParser's `keep`).
 */
export const ENTRY_RECORD_FIELDS: readonly string[] = [
  '__REALTIME_TIMESTAMP',
  'MESSAGE',
  ...Object.keys(JOURNAL_ATTRIBUTES),
];

/** Is this SYSLOG_IDENTIFIER a Kata Containers component's? */
export function isKataIdentifier(id: string): boolean {
  return id === 'kata' || id.startsWith('kata-') || id === 'containerd-shim-kata-v2';
}

/** Is this entry written by a Kata Containers component? */
export function isKataEntry(entry: JournalEntry): boolean {
  return isKataIdentifier(entry.get('SYSLOG_IDENTIFIER') ?? '');
}

/** The `kata_*` attributes of a Kata message (logfmt or JSON), or none. */
export function kataAttributes(message: string): Attributes {
  const text = message.trim();
  if (text.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return flattenJson(parsed, 'kata');
      }
    } catch {
      // Not JSON after all: try logfmt.
    }
  }
  if (!/(?:^|\s)(?:level|msg|time)=/.test(text)) return {};
  const out: Attributes = {};
  for (const [k, v] of parseLogfmt(text)) out[kataName(k)] = v;
  return out;
}

/**
 * `kata_<key>` made safe, once per key (Kata's few keys repeat on every line); bounded. Making
 * each name safe was half of kataAttributes' time (the bench's 4,066 Kata lines: 12 ms, 5.9 with this).
 */
const kataNames = new Map<string, string>();
function kataName(key: string): string {
  let name = kataNames.get(key);
  if (name === undefined) {
    name = safeName(`kata_${key}`);
    if (kataNames.size >= 1000) kataNames.clear();
    kataNames.set(key, name);
  }
  return name;
}

export interface EntryRecordOptions {
  readonly labels: Labels;
  readonly observed: bigint;
}

/** JOURNAL_ATTRIBUTES' pairs, made once: Object.entries per entry was half of entryRecord's time. */
const ATTRIBUTE_FIELDS = Object.entries(JOURNAL_ATTRIBUTES);

/** The record of an entry; undefined when its time is unreadable (a corrupt entry). */
export function entryRecord(entry: JournalEntry, opts: EntryRecordOptions): LogRecord | undefined {
  const rt = entry.get('__REALTIME_TIMESTAMP');
  if (rt === undefined || !/^[0-9]{1,20}$/.test(rt)) return undefined;
  const message = entry.get('MESSAGE') ?? '';
  const attributes: Attributes = {};
  for (const [field, name] of ATTRIBUTE_FIELDS) {
    const v = entry.get(field);
    if (v !== undefined) attributes[name] = v;
  }
  if (isKataEntry(entry)) Object.assign(attributes, kataAttributes(message));
  return {
    timestamp: BigInt(rt) * 1000n,
    observedTimestamp: opts.observed,
    labels: opts.labels,
    attributes,
    body: message,
  };
}
