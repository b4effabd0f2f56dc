/**
 * @module The socket and file outputs, by type: `gelf` (Graylog), `syslog` (RFC 5424/3164 over
 * UDP, TCP, TLS), `forward` (Fluentd/Fluent Bit forward protocol v1) and `file` (NDJSON).
 */
import type { OutputFactory } from '../output.js';
import { fileOutput } from './file.js';
import { forwardOutput } from './forward.js';
import { gelfOutput } from './gelf.js';
import { syslogOutput } from './syslog.js';

export const NET_OUTPUTS: Readonly<Record<string, OutputFactory>> = {
  gelf: gelfOutput,
  syslog: syslogOutput,
  forward: forwardOutput,
  file: fileOutput,
};
