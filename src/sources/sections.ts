/**
 * @module The sources' sections of `kjournal agent`'s configuration: one key per source kind, each
 * read by its own source (src/sources/<kind>/config.ts), then the source's flags over it (a flag
 * wins over the file). `key: false` leaves a source out; with no source configured at all, the
 * agent reads pod logs from `/var/log/pods` (the common case).
 */
import { type AuditFlags, type AuditSection, auditFromFile, auditWithFlags } from './audit/config.js';
import { ConfigError } from './config-values.js';
import { type EventsFlags, type EventsSection, eventsFromFile, eventsWithFlags } from './events/config.js';
import {
  type JournalFlags,
  type JournalSection,
  journalFromFile,
  journalWithFlags,
} from './journal/config.js';
import {
  DEFAULT_PODS_DIR,
  type PodsFlags,
  type PodsSection,
  podsFromFile,
  podsWithFlags,
} from './pods/config.js';
import { type SyslogFlags, type SyslogSection, syslogFromFile, syslogWithFlags } from './syslog/config.js';

export interface SourceSections {
  readonly pods?: PodsSection;
  readonly audit?: AuditSection;
  readonly events?: EventsSection;
  readonly journal?: JournalSection;
  readonly syslog?: SyslogSection;
}
export type SourceKind = keyof SourceSections;

/** The flags of the sources, as commander names them. */
export type SourceFlags = PodsFlags & AuditFlags & EventsFlags & JournalFlags & SyslogFlags;

/** How one kind's section is read: from the file, then the flags over it. */
interface SectionReader<S> {
  fromFile(value: unknown): S;
  withFlags(section: S | undefined, flags: SourceFlags): S | undefined;
}

const READERS: { readonly [K in SourceKind]-?: SectionReader<NonNullable<SourceSections[K]>> } = {
  pods: { fromFile: podsFromFile, withFlags: podsWithFlags },
  audit: { fromFile: auditFromFile, withFlags: auditWithFlags },
  events: { fromFile: eventsFromFile, withFlags: eventsWithFlags },
  journal: { fromFile: journalFromFile, withFlags: journalWithFlags },
  syslog: { fromFile: syslogFromFile, withFlags: syslogWithFlags },
};

/** The source kinds, in the order the agent builds and starts them. */
export const SOURCE_KINDS: readonly SourceKind[] = ['pods', 'audit', 'events', 'journal', 'syslog'];

// Each reader is typed by its kind above; the loops below go over all kinds alike.
const reader = (kind: SourceKind) => READERS[kind] as SectionReader<unknown>;

/**
 * The sources' sections from the file's top-level mapping (only its source keys are read) and the
 * flags. Errors name the field (`pods.labels: ...`) or the flag (`--kubeconfig: ...`).
 */
export function readSourceSections(
  top: Readonly<Record<string, unknown>>,
  flags: SourceFlags,
): SourceSections {
  const out: { [kind: string]: unknown } = {};
  // Every section of the file first, then every flag: the first error is the file's.
  for (const kind of SOURCE_KINDS) {
    const v = top[kind];
    if (v !== undefined && v !== false) out[kind] = reader(kind).fromFile(v);
  }
  const file = out as SourceSections;
  if (
    flags.kubeconfig !== undefined &&
    !(file.events || flags.events || file.pods?.labels || flags.podLabels)
  )
    throw new ConfigError(
      '--kubeconfig: only used by the events source and pod labels (add --events or --pod-labels)',
    );
  for (const kind of SOURCE_KINDS) {
    const s = reader(kind).withFlags(out[kind], flags);
    if (s === undefined) delete out[kind];
    else out[kind] = s;
  }
  if (Object.keys(out).length === 0 && top.pods !== false) out.pods = { dir: DEFAULT_PODS_DIR };
  return out as SourceSections;
}
