/**
 * @module The `syslog` output: records as RFC 5424 or RFC 3164 messages (syslog-format.ts) over UDP,
 * TCP or TLS (RFC 5425).
 *
 * Options: `url` (`udp://`, `tcp://` or `tls://host:port`), `format` (`rfc5424` default, `rfc3164`),
 * `framing` (TCP/TLS: `octet-counting` default, or `lf`), `facility` (name such as `local0`, or
 * 0-23; default `user`), `severity` (default for records without a level: name or 0-7; default
 * `info`), `appName` (default `kjournal`) and `appNameFrom` (a label or attribute that gives it per
 * record), `hostname` (default this machine's name) and `hostnameFrom`, `structuredDataId` (the
 * SD-ID of the attributes element, default `kjournal@32473`; empty for none), `timezone` (of RFC 3164
 * timestamps: `local` default, `UTC`), `maxDatagramSize` (UDP, default 65000 bytes: longer messages
 * are cut), `tls` (`ca`, `cert`, `key`, `insecureSkipVerify`, `serverName`).
 *
 * Syslog has no acknowledgement: over TCP/TLS a batch is done when its frames are written and flushed;
 * over UDP when the datagrams are handed to the kernel. A broken connection fails the batch with a
 * retryable error, and the next send reconnects.
 */
import { hostname } from 'node:os';
import type { Options } from '../../../config/options.js';
import { FACILITIES, SEVERITIES } from '../../../sources/syslog/parse.js';
import type { Output, OutputFactory } from '../output.js';
import { readEndpoint, readEndpointTls } from './endpoint.js';
import { severityName } from './level.js';
import { socketOutput } from './socket-output.js';
import { datagram, type Framing, formatSyslog, frame, type SyslogFormatOptions } from './syslog-format.js';

function readFacility(opts: Options): number {
  const v = opts.string('facility', 'user').trim().toLowerCase();
  const n = /^\d{1,2}$/.test(v) ? Number(v) : (FACILITIES as readonly string[]).indexOf(v);
  if (n < 0 || n > 23)
    throw opts.error('facility', `must be 0-23 or one of ${FACILITIES.join(', ')}, got ${v}`);
  return n;
}

function readSeverity(opts: Options): number {
  const v = opts.string('severity', 'info');
  const n = severityName(v);
  if (n === undefined)
    throw opts.error('severity', `must be 0-7 or one of ${SEVERITIES.join(', ')}, got ${v}`);
  return n;
}

export const syslogOutput: OutputFactory = (name, opts, ctx): Output => {
  const ep = readEndpoint(opts, ['udp', 'tcp', 'tls']);
  const udp = ep.scheme === 'udp';
  const format = opts.oneOf('format', ['rfc5424', 'rfc3164'] as const, 'rfc5424');
  if (udp && opts.has('framing')) throw opts.error('framing', 'only applies to tcp:// and tls://');
  const framing: Framing = opts.oneOf('framing', ['octet-counting', 'lf'] as const, 'octet-counting');
  const appNameFrom = opts.optionalString('appNameFrom');
  const hostnameFrom = opts.optionalString('hostnameFrom');
  const fmt: SyslogFormatOptions = {
    format,
    facility: readFacility(opts),
    severity: readSeverity(opts),
    appName: opts.string('appName', 'kjournal'),
    hostname: opts.string('hostname', hostname()),
    sdId: opts.string('structuredDataId', 'kjournal@32473'),
    timezone: opts.oneOf('timezone', ['local', 'UTC'] as const, 'local'),
    ...(appNameFrom !== undefined && { appNameFrom }),
    ...(hostnameFrom !== undefined && { hostnameFrom }),
  };
  if (!udp && opts.has('maxDatagramSize')) throw opts.error('maxDatagramSize', 'only applies to udp://');
  const maxDatagram = opts.number('maxDatagramSize', 65000, 480);
  if (maxDatagram > 65507) throw opts.error('maxDatagramSize', `must be at most 65507, got ${maxDatagram}`);
  const tls = readEndpointTls(opts, ep, ctx.baseDir);
  opts.done();

  return socketOutput(name, 'syslog', ep, tls, {
    datagrams: (records) => records.map((r) => datagram(formatSyslog(r, fmt), maxDatagram)),
    stream: (records) => Buffer.concat(records.map((r) => frame(formatSyslog(r, fmt), framing))),
  });
};
