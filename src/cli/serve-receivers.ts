/**
 * @module The receivers' flags of `kjournal serve` (issue 17: Fluentd forward, syslog, GELF) and
 * the receivers' configuration they describe.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ReceiversConfig } from '../server/receivers.js';
import { CliError } from './errors.js';
import { serveValue, serveValueOrDefault } from './serve-values.js';

/** What `receiversFromFlags` reads. */
export interface ReceiverFlags {
  forwardListen?: string;
  forwardSharedKeyFile?: string;
  forwardTenant?: string;
  forwardMaxMessageSize: string;
  syslogTcp?: string;
  syslogUdp?: string;
  syslogTls?: string;
  syslogTenant?: string;
  gelfUdp?: string;
  gelfTcp?: string;
  gelfTenant?: string;
  gelfMaxMessageSize: string;
  decodeWorkers?: string;
}

export function addReceiverFlags(cmd: Command): void {
  cmd
    .option(
      '--forward-listen <host:port>',
      'receive the Fluentd forward protocol (Fluent Bit, Fluentd, Docker) on this TCP port, heartbeat on UDP',
    )
    .option(
      '--forward-shared-key-file <file>',
      "the forward handshake's shared key (HELO/PING/PONG); needed with authentication on",
    )
    .option('--forward-tenant <tenant>', 'tenant of what --forward-listen receives', 'default')
    .option(
      '--forward-max-message-size <size>',
      'largest forward message; a larger one drops the connection',
      '16MiB',
    )
    .option(
      '--syslog-tcp <host:port>',
      'receive syslog (RFC 5424/3164, octet counting or LF framing) on this TCP port',
    )
    .option('--syslog-udp <host:port>', 'receive syslog datagrams on this UDP port')
    .option(
      '--syslog-tls <host:port>',
      'receive syslog over TLS (RFC 5425) with the --tls-cert-file certificate',
    )
    .option('--syslog-tenant <tenant>', 'tenant of what the syslog listeners receive', 'default')
    .option('--gelf-udp <host:port>', 'receive GELF (chunked, gzip or zlib) on this UDP port')
    .option('--gelf-tcp <host:port>', 'receive NUL-delimited GELF on this TCP port')
    .option('--gelf-tenant <tenant>', 'tenant of what the GELF listeners receive', 'default')
    .option(
      '--gelf-max-message-size <size>',
      'largest GELF message (TCP frame, reassembled UDP chunks)',
      '1MiB',
    )
    .option(
      '--decode-workers <n>',
      'worker threads that decode large OTLP/JSON, Splunk HEC and Elasticsearch bulk bodies; 0 decodes on the main thread (default: one per spare CPU, at most 2)',
    );
}

export function receiversFromFlags(flags: ReceiverFlags): ReceiversConfig {
  const forward = serveValue(flags, 'forwardListen');
  const sharedKey =
    flags.forwardSharedKeyFile === undefined
      ? undefined
      : readSecret('--forward-shared-key-file', flags.forwardSharedKeyFile);
  const syslog = {
    tcp: serveValue(flags, 'syslogTcp'),
    udp: serveValue(flags, 'syslogUdp'),
    tls: serveValue(flags, 'syslogTls'),
  };
  const gelf = { udp: serveValue(flags, 'gelfUdp'), tcp: serveValue(flags, 'gelfTcp') };
  const decodeWorkers = serveValue(flags, 'decodeWorkers');
  return {
    ...(decodeWorkers !== undefined ? { decodeWorkers } : {}),
    ...(forward
      ? {
          forward: {
            listen: forward,
            ...(sharedKey !== undefined ? { sharedKey } : {}),
            ...(flags.forwardTenant ? { tenant: flags.forwardTenant } : {}),
            maxMessageBytes: serveValueOrDefault(flags, 'forwardMaxMessageSize'),
          },
        }
      : {}),
    syslog: {
      ...(syslog.tcp ? { tcp: syslog.tcp } : {}),
      ...(syslog.udp ? { udp: syslog.udp } : {}),
      ...(syslog.tls ? { tls: syslog.tls } : {}),
      ...(flags.syslogTenant ? { tenant: flags.syslogTenant } : {}),
    },
    gelf: {
      ...(gelf.udp ? { udp: gelf.udp } : {}),
      ...(gelf.tcp ? { tcp: gelf.tcp } : {}),
      ...(flags.gelfTenant ? { tenant: flags.gelfTenant } : {}),
      maxMessageBytes: serveValueOrDefault(flags, 'gelfMaxMessageSize'),
    },
  };
}

export function receiverHosts(r: ReceiversConfig): string[] {
  return [r.forward?.listen, r.syslog?.tcp, r.syslog?.udp, r.syslog?.tls, r.gelf?.udp, r.gelf?.tcp]
    .filter((a) => a !== undefined)
    .map((a) => a.host);
}

/** A secret file's first line (a trailing newline is no part of the key). */
function readSecret(flag: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`${flag}: cannot read ${file}: ${(err as Error).message}`, 2);
  }
  const key = text.split(/\r?\n/)[0] ?? '';
  if (key === '') throw new CliError(`${flag}: ${file} is empty`, 2);
  return key;
}
