/**
 * @module The syslog source of `kjournal agent`: RFC 5424 and RFC 3164 messages over UDP (one
 * message per datagram) and TCP (RFC 6587 octet counting or LF framing, detected per frame: see
 * formats/syslog-framing.ts, shared with the server's syslog listener; parsing: formats/syslog.ts).
 *
 * Records:
 * - body: the MSG (a UTF-8 BOM and trailing CR/LF/NUL removed); the whole text when it did not parse.
 * - labels: `kind=log`, `source=syslog`, `node=<options.node>`. `node` is the node the agent runs on
 *   (bounded cardinality; a relay forwarding for many hosts would otherwise explode the streams);
 *   the sender's HOSTNAME is the `hostname` attribute.
 * - attributes (only those present): `facility` (`kern`, `daemon`, `local0`...), `facility_code`
 *   (0-23), `severity` (`emerg`, `alert`, `crit`, `err`, `warning`, `notice`, `info`, `debug`),
 *   `severity_code` (0-7), `hostname`, `appname` (RFC 3164: the TAG), `procid` (RFC 3164: the
 *   `[pid]`), `msgid`, and every SD-PARAM as `sd_<SD-ID>_<PARAM-NAME>` through safeName
 *   (`[exampleSDID@32473 iut="3"]` → `sd_exampleSDID_32473_iut`; an element without parameters
 *   gives `sd_<SD-ID>` = ``; a name given twice keeps the last value).
 * - timestamp: the message's; the receive time when it has none or it does not parse.
 *   observedTimestamp: the receive time.
 *
 * Problems (`ctx.problem`): `too_long` and `bad_frame` (framing, the frame is skipped and the
 * connection goes on), `bad_pri`, `bad_timestamp`, `bad_structured_data` (the message is still
 * emitted), `udp_dropped` (see below: a second after the first drop, then at most once a second,
 * with the count since the last report).
 *
 * Back-pressure: while `emit` is pending, every TCP connection is paused (`socket.pause()`, so the
 * kernel's window pushes back on the sender) and UDP datagrams are kept up to `udpQueue` records
 * (default 1000; 0 drops every datagram that arrives meanwhile); beyond that they are dropped and
 * counted: `dropped()` returns the total since the source was created. Records parsed but not yet
 * emitted when the agent stops are lost (network sources keep no positions).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { parseSyslog, type SyslogMessage } from '../../formats/syslog.js';
import { DEFAULT_MAX_FRAME, SyslogFramer } from '../../formats/syslog-framing.js';
import { syslogAttributes } from '../../formats/syslog-record.js';
import type { Labels, LogRecord } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { getOrCreate } from '../../util/maps.js';
import type { Source, SourceContext } from '../source.js';

export { parseSyslog, type SyslogMessage } from '../../formats/syslog.js';
export { SyslogFramer } from '../../formats/syslog-framing.js';

export interface SyslogSourceOptions {
  /** `host:port` to listen on for TCP (`[::1]:514` for IPv6; port 0 picks a free one). */
  readonly tcp?: string;
  /** `host:port` to listen on for UDP. */
  readonly udp?: string;
  /** The node the agent runs on: the `node` label. */
  readonly node: string;
  /** The source's name (default `syslog`). */
  readonly name?: string;
  /** Zone of RFC 3164 timestamps (default `local`). */
  readonly timezone?: 'local' | 'UTC';
  /** Largest TCP frame in bytes (default 64 KiB). */
  readonly maxFrame?: number;
  /** UDP records kept while `emit` is pending before datagrams are dropped (default 1000). */
  readonly udpQueue?: number;
  /** Most records per batch (default 1000). */
  readonly maxBatch?: number;
}

export interface SyslogAddresses {
  readonly tcp?: AddressInfo;
  readonly udp?: AddressInfo;
}

export interface SyslogSource extends Source {
  /** Resolves with the bound addresses once `run` listens (rejects if binding fails). */
  listening(): Promise<SyslogAddresses>;
  /** The bound addresses, once listening (empty before). */
  address(): SyslogAddresses;
  /** UDP datagrams dropped under back-pressure since the source was created. */
  dropped(): number;
}

/** Parses `host:port` (`[v6]:port` too). */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535)
    throw new Error(`syslog: invalid address ${JSON.stringify(text)}, expected host:port`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/**
 * The labels of a node's records: one object per node, shared by every record, so that what is
 * derived per labels object (the push's label text, agent/push-builder.ts) is derived once.
 */
const labelsByNode = new Map<string, Labels>();

/** The record of one parsed message (the attributes: formats/syslog-record.ts). */
export function syslogRecord(m: SyslogMessage, node: string, receivedNs: bigint): LogRecord {
  return {
    timestamp: m.timestamp ?? receivedNs,
    observedTimestamp: receivedNs,
    labels: getOrCreate(labelsByNode, node, () => ({ kind: 'log', source: 'syslog', node })),
    attributes: syslogAttributes(m),
    body: m.msg,
  };
}

export function createSyslogSource(options: SyslogSourceOptions): SyslogSource {
  if (!options.tcp && !options.udp) throw new Error('syslog: give a tcp or a udp address (or both)');
  const tcpAddr = options.tcp ? parseHostPort(options.tcp) : undefined;
  const udpAddr = options.udp ? parseHostPort(options.udp) : undefined;
  const name = options.name ?? 'syslog';
  const udpQueue = options.udpQueue ?? 1000;
  const maxBatch = options.maxBatch ?? 1000;
  const maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
  let bound: SyslogAddresses = {};
  let droppedTotal = 0;
  let resolveListening: (a: SyslogAddresses) => void = () => {};
  let rejectListening: (e: unknown) => void = () => {};
  const listeningPromise = new Promise<SyslogAddresses>((res, rej) => {
    resolveListening = res;
    rejectListening = rej;
  });
  listeningPromise.catch(() => {});

  async function run(ctx: SourceContext): Promise<void> {
    const pending: LogRecord[] = [];
    const sockets = new Set<Socket>();
    let emitting = false;
    let stopped = false;
    let unreported = 0;
    let reportTimer: NodeJS.Timeout | undefined;
    let fatal: ((e: unknown) => void) | undefined;

    const reportDropped = () => {
      reportTimer = undefined;
      if (unreported === 0) return;
      ctx.problem({
        reason: 'udp_dropped',
        message: `dropped ${unreported} UDP datagram(s) while the agent's buffer was full`,
      });
      unreported = 0;
    };

    const take = (text: string, receivedNs: bigint, where: string) => {
      const m = parseSyslog(text, { timezone: options.timezone ?? 'local', now: receivedNs });
      if (m.problem)
        ctx.problem({
          reason: m.problem,
          message: `${where}: ${m.problem.replace(/_/g, ' ')} in ${JSON.stringify(text.slice(0, 80))}`,
        });
      pending.push(syslogRecord(m, options.node, receivedNs));
    };

    const flush = async () => {
      if (emitting || stopped) return;
      emitting = true;
      for (const s of sockets) s.pause();
      try {
        while (pending.length > 0 && !stopped) {
          const records = pending.splice(0, maxBatch);
          await ctx.emit({ records, positions: {} });
        }
      } catch (e) {
        fatal?.(e);
      } finally {
        emitting = false;
      }
      if (!stopped) for (const s of sockets) s.resume();
    };

    let server: Server | undefined;
    let udp: UdpSocket | undefined;
    const closeAll = () => {
      stopped = true;
      if (reportTimer) clearTimeout(reportTimer);
      reportDropped();
      server?.close();
      for (const s of sockets) s.destroy();
      sockets.clear();
      try {
        udp?.close();
      } catch {
        // already closed
      }
    };

    try {
      if (tcpAddr) {
        server = createServer((socket) => {
          if (stopped) {
            socket.destroy();
            return;
          }
          sockets.add(socket);
          if (emitting) socket.pause();
          const framer = new SyslogFramer({ maxFrame });
          const where = `tcp ${socket.remoteAddress}:${socket.remotePort}`;
          socket.on('data', (chunk: Buffer) => {
            const receivedNs = nowNs();
            const { frames, problems } = framer.push(chunk);
            for (const p of problems) ctx.problem({ reason: p.reason, message: `${where}: ${p.message}` });
            for (const f of frames) take(f, receivedNs, where);
            void flush();
          });
          socket.on('error', () => {});
          socket.on('close', () => sockets.delete(socket));
        });
        const srv = server;
        await new Promise<void>((res, rej) => {
          srv.once('error', rej);
          srv.listen(tcpAddr.port, tcpAddr.host, () => {
            srv.off('error', rej);
            res();
          });
        });
        bound = { ...bound, tcp: srv.address() as AddressInfo };
      }
      if (udpAddr) {
        const type = udpAddr.host.includes(':') ? 'udp6' : 'udp4';
        const sock = createSocket(type);
        udp = sock;
        sock.on('message', (msg, rinfo) => {
          if (stopped) return;
          if (emitting && pending.length >= udpQueue) {
            droppedTotal++;
            unreported++;
            // One report a second at most, counting the whole burst.
            if (!reportTimer) {
              reportTimer = setTimeout(reportDropped, 1000);
              reportTimer.unref();
            }
            return;
          }
          take(msg.toString('utf8'), nowNs(), `udp ${rinfo.address}:${rinfo.port}`);
          void flush();
        });
        await new Promise<void>((res, rej) => {
          sock.once('error', rej);
          sock.bind(udpAddr.port, udpAddr.host, () => {
            sock.off('error', rej);
            res();
          });
        });
        bound = { ...bound, udp: sock.address() };
      }
    } catch (e) {
      closeAll();
      rejectListening(e);
      throw e;
    }
    resolveListening(bound);

    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        closeAll();
        resolve();
      };
      fatal = (e) => {
        ctx.signal.removeEventListener('abort', onAbort);
        closeAll();
        reject(e);
      };
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
      server?.on('error', (e) => fatal?.(e));
      udp?.on('error', (e) => fatal?.(e));
    });
  }

  return {
    name,
    run,
    listening: () => listeningPromise,
    address: () => bound,
    dropped: () => droppedTotal,
  };
}
