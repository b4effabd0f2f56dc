/**
 * @module The structured metadata of a syslog message, shared by the agent's syslog source and the
 * server's syslog listener (only those present): `facility` (`kern`, `daemon`, `local0`...),
 * `facility_code` (0-23), `severity` (`emerg` ... `debug`), `severity_code` (0-7), `hostname`,
 * `appname` (RFC 3164: the TAG), `procid` (RFC 3164: the `[pid]`), `msgid`, and every SD-PARAM as
 * `sd_<SD-ID>_<PARAM-NAME>` through safeName (an element without parameters gives `sd_<SD-ID>` = ``;
 * a name given twice keeps the last value).
 */
import { safeName } from '../model/names.js';
import { FACILITIES, SEVERITIES, type SyslogMessage } from './syslog.js';

export function syslogAttributes(m: SyslogMessage): Record<string, string> {
  const attributes: Record<string, string> = {
    facility: FACILITIES[m.facility] ?? String(m.facility),
    facility_code: String(m.facility),
    severity: SEVERITIES[m.severity] ?? String(m.severity),
    severity_code: String(m.severity),
  };
  if (m.hostname !== undefined) attributes.hostname = m.hostname;
  if (m.appname !== undefined) attributes.appname = m.appname;
  if (m.procid !== undefined) attributes.procid = m.procid;
  if (m.msgid !== undefined) attributes.msgid = m.msgid;
  for (const el of m.structuredData) {
    const prefix = `sd_${el.id}`;
    if (el.params.length === 0) attributes[safeName(prefix)] = '';
    for (const [name, value] of el.params) attributes[safeName(`${prefix}_${name}`)] = value;
  }
  return attributes;
}
