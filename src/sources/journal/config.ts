/**
 * @module The journal source's section of the agent configuration and its flags:
 *
 * ```yaml
 * journal: { dir: /var/log/journal, matches: [SYSLOG_IDENTIFIER=kata] }
 * ```
 *
 * Flags: `--journal` alone (the whole journal) or `--journal A=b C=d` (matches), `--journal-dir DIR`.
 */
import { ConfigError, section, show, str } from '../config-values.js';

export interface JournalSection {
  /** Absent: the system journal. */
  readonly dir?: string;
  /** Field matches such as `SYSLOG_IDENTIFIER=kata` (journalctl's). */
  readonly matches: readonly string[];
}

export interface JournalFlags {
  /** `--journal` alone is true; `--journal A=b C=d` gives the matches. */
  journal?: boolean | string[];
  journalDir?: string;
}

// journalctl's FIELD=VALUE: field names are upper case letters, digits and underscores.
const MATCH_RE = /^[A-Z0-9_]+=.*$/;

function matches(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ConfigError(`${field}: must be a list of FIELD=VALUE, got ${show(v)}`);
  return v.map((m, i) => {
    if (typeof m !== 'string' || !MATCH_RE.test(m)) {
      throw new ConfigError(
        `${field}[${i}]: must be FIELD=VALUE such as SYSLOG_IDENTIFIER=kata, got ${show(m)}`,
      );
    }
    return m;
  });
}

export function journalFromFile(value: unknown): JournalSection {
  const s = section(value, 'journal', ['dir', 'matches']);
  const dir = str(s.dir, 'journal.dir');
  return { ...(dir !== undefined ? { dir } : {}), matches: matches(s.matches, 'journal.matches') };
}

/** The flags over the file's section (a flag wins). */
export function journalWithFlags(
  s: JournalSection | undefined,
  flags: JournalFlags,
): JournalSection | undefined {
  if (flags.journal === undefined && flags.journalDir === undefined) return s;
  const m = Array.isArray(flags.journal) ? matches(flags.journal, '--journal') : (s?.matches ?? []);
  const dir = flags.journalDir ?? s?.dir;
  return { ...(dir !== undefined ? { dir } : {}), matches: m };
}
