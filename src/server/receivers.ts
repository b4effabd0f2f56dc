/**
 * @module Wiring of the receivers of other collectors' protocols (issue 17): the HTTP routes on the
 * server's one port (OTLP/HTTP logs, Elasticsearch bulk and its probes, systemd's journal upload,
 * GELF over HTTP, Splunk HEC) and the listeners of their own (Fluentd forward, syslog, GELF), all
 * writing through one intake (api/receivers/intake.ts: the push's limits, `create`, back-pressure)
 * into the server's journal, counted in the receivers' counters (api/receivers/metrics.ts).
 */
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { registerElasticsearchApi } from '../api/elasticsearch/routes.js';
import { startForwardListener } from '../api/forward/listener.js';
import { registerGelfHttp } from '../api/gelf/http.js';
import { startGelfListeners } from '../api/gelf/listener.js';
import type { Router } from '../api/http/router.js';
import { registerJournalUploadApi } from '../api/journal-upload/routes.js';
import { registerOtlpApi } from '../api/otlp/routes.js';
import { listenerTenant } from '../api/receivers/access.js';
import { DecodePool, defaultDecodeWorkers } from '../api/receivers/decode-pool.js';
import { Intake } from '../api/receivers/intake.js';
import { ProtocolCounter, receiverCounters } from '../api/receivers/metrics.js';
import { registerHecApi } from '../api/splunk/routes.js';
import { startSyslogListeners } from '../api/syslog/listener.js';
import type { Auth } from '../auth/index.js';
import type { PushLimits } from '../formats/loki-push/index.js';
import type { Journal } from '../journal/journal.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface ReceiversConfig {
  /** Workers decoding the JSON receivers' bodies (0: inline); default defaultDecodeWorkers(). */
  readonly decodeWorkers?: number;
  readonly forward?: {
    readonly listen: HostPort;
    readonly sharedKey?: string;
    readonly tenant?: string;
    /** Largest forward message on the wire (default 16 MiB). */
    readonly maxMessageBytes?: number;
  };
  readonly syslog?: {
    readonly tcp?: HostPort;
    readonly udp?: HostPort;
    readonly tls?: HostPort;
    readonly tenant?: string;
    readonly maxFrame?: number;
  };
  readonly gelf?: {
    readonly udp?: HostPort;
    readonly tcp?: HostPort;
    readonly tenant?: string;
    readonly maxMessageBytes?: number;
  };
}

export interface ReceiverAddresses {
  readonly forward?: AddressInfo;
  readonly syslogTcp?: AddressInfo;
  readonly syslogUdp?: AddressInfo;
  readonly syslogTls?: AddressInfo;
  readonly gelfUdp?: AddressInfo;
  readonly gelfTcp?: AddressInfo;
}

export const DEFAULT_FORWARD_MAX_MESSAGE = 16 << 20;

export interface RunningReceivers {
  readonly addresses: ReceiverAddresses;
  close(): Promise<void>;
}

/**
 * The intake every receiver writes through, the receivers' HTTP routes, and the pool that decodes
 * their JSON bodies (closed by the server's shutdown).
 */
export function registerReceiverRoutes(
  router: Router,
  opts: {
    readonly journal: Pick<Journal, 'write' | 'admitWrite'>;
    readonly registry: Registry;
    readonly limits: PushLimits;
    readonly maxBodyBytes: number;
    /** Records one request may carry (the server's --max-push-entries). */
    readonly maxEvents: number;
    /** kjournal's version (the Elasticsearch root document's build). */
    readonly version: string;
    /** --decode-workers; default defaultDecodeWorkers(). */
    readonly decodeWorkers?: number;
    readonly log?: (line: string) => void;
  },
): { intake: Intake; decodePool: DecodePool } {
  const counters = receiverCounters(opts.registry);
  const intake = new Intake({ journal: opts.journal, limits: opts.limits });
  const decodePool = new DecodePool(opts.decodeWorkers ?? defaultDecodeWorkers(), {
    ...(opts.log ? { log: opts.log } : {}),
  });
  const http = (protocol: string) => ({
    intake,
    counter: new ProtocolCounter(counters, protocol),
    maxBodyBytes: opts.maxBodyBytes,
    maxRecords: opts.maxEvents,
  });
  registerOtlpApi(router, { ...http('otlp'), decodePool });
  registerElasticsearchApi(router, { ...http('elasticsearch'), version: opts.version, decodePool });
  registerJournalUploadApi(router, { ...http('journal-upload'), decodePool });
  registerGelfHttp(router, {
    intake,
    counter: new ProtocolCounter(counters, 'gelf'),
    maxBodyBytes: opts.maxBodyBytes,
  });
  registerHecApi(router, {
    intake,
    counter: new ProtocolCounter(counters, 'splunk_hec'),
    maxBodyBytes: opts.maxBodyBytes,
    maxEvents: opts.maxEvents,
    decodePool,
  });
  return { intake, decodePool };
}

export async function startReceivers(opts: {
  readonly config: ReceiversConfig;
  readonly intake: Intake;
  readonly registry: Registry;
  readonly auth?: Auth;
  /** Largest decompressed payload (the server's --max-body-size). */
  readonly maxBodyBytes: number;
  readonly log: (line: string) => void;
}): Promise<RunningReceivers> {
  const { config, log, intake } = opts;
  const counters = receiverCounters(opts.registry);
  const closers: (() => Promise<void>)[] = [];
  const addresses: { -readonly [K in keyof ReceiverAddresses]: ReceiverAddresses[K] } = {};
  const close = async () => {
    await Promise.all(closers.map((c) => c()));
  };
  try {
    if (config.forward) {
      const f = config.forward;
      if (opts.auth && !opts.auth.requireLoopback && f.sharedKey === undefined) {
        throw new Error('--forward-listen needs --forward-shared-key-file when authentication is on');
      }
      const l = await startForwardListener({
        host: f.listen.host,
        port: f.listen.port,
        intake,
        counter: new ProtocolCounter(counters, 'forward'),
        ...(opts.auth ? { auth: opts.auth } : {}),
        tenant: listenerTenant(f.tenant),
        ...(f.sharedKey !== undefined ? { sharedKey: f.sharedKey } : {}),
        maxMessageBytes: f.maxMessageBytes ?? DEFAULT_FORWARD_MAX_MESSAGE,
        maxDecodedBytes: opts.maxBodyBytes,
        maxEvents: 1_000_000,
        log,
      });
      closers.push(() => l.close());
      addresses.forward = l.address;
    }
    if (config.syslog && (config.syslog.tcp || config.syslog.udp || config.syslog.tls)) {
      const s = config.syslog;
      const l = await startSyslogListeners({
        ...(s.tcp ? { tcp: s.tcp } : {}),
        ...(s.udp ? { udp: s.udp } : {}),
        ...(s.tls ? { tls: s.tls } : {}),
        intake,
        counter: new ProtocolCounter(counters, 'syslog'),
        ...(opts.auth ? { auth: opts.auth } : {}),
        tenant: listenerTenant(s.tenant),
        ...(s.maxFrame ? { maxFrame: s.maxFrame } : {}),
        log,
      });
      closers.push(() => l.close());
      if (l.tcp) addresses.syslogTcp = l.tcp;
      if (l.udp) addresses.syslogUdp = l.udp;
      if (l.tls) addresses.syslogTls = l.tls;
    }
    if (config.gelf && (config.gelf.udp || config.gelf.tcp)) {
      const g = config.gelf;
      const l = await startGelfListeners({
        ...(g.udp ? { udp: g.udp } : {}),
        ...(g.tcp ? { tcp: g.tcp } : {}),
        intake,
        counter: new ProtocolCounter(counters, 'gelf'),
        ...(opts.auth ? { auth: opts.auth } : {}),
        tenant: listenerTenant(g.tenant),
        maxMessageBytes: g.maxMessageBytes ?? 1 << 20,
        maxDecodedBytes: opts.maxBodyBytes,
        log,
      });
      closers.push(() => l.close());
      if (l.udp) addresses.gelfUdp = l.udp;
      if (l.tcp) addresses.gelfTcp = l.tcp;
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { addresses, close };
}
