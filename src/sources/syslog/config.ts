/**
 * @module The syslog source's section of the agent configuration and its flags:
 *
 * ```yaml
 * syslog: { tcp: "0.0.0.0:5140", udp: "0.0.0.0:5140" }
 * ```
 *
 * Flags: `--syslog-tcp HOST:PORT`, `--syslog-udp HOST:PORT`.
 */
import { ConfigError, section, str } from '../config-values.js';

export interface SyslogSection {
  readonly tcp?: string;
  readonly udp?: string;
}

export interface SyslogFlags {
  syslogTcp?: string;
  syslogUdp?: string;
}

export function syslogFromFile(value: unknown): SyslogSection {
  const s = section(value, 'syslog', ['tcp', 'udp']);
  const tcp = str(s.tcp, 'syslog.tcp');
  const udp = str(s.udp, 'syslog.udp');
  if (tcp === undefined && udp === undefined) throw new ConfigError('syslog: needs tcp or udp (an address)');
  return { ...(tcp !== undefined ? { tcp } : {}), ...(udp !== undefined ? { udp } : {}) };
}

/** The flags over the file's section (a flag wins). */
export function syslogWithFlags(s: SyslogSection | undefined, flags: SyslogFlags): SyslogSection | undefined {
  if (flags.syslogTcp === undefined && flags.syslogUdp === undefined) return s;
  const tcp = flags.syslogTcp ?? s?.tcp;
  const udp = flags.syslogUdp ?? s?.udp;
  return { ...(tcp !== undefined ? { tcp } : {}), ...(udp !== undefined ? { udp } : {}) };
}
