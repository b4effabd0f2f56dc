/**
 * @module The receivers' counters (issue 17): per protocol, the records and bytes accepted (stored,
 * or acknowledged as duplicates) and refused (malformed, over a limit, out of the time window,
 * forbidden, dropped under back-pressure). One pair of counters for every receiver, HTTP or not:
 * `kjournal_receiver_records_total{protocol,result}` and `kjournal_receiver_bytes_total{protocol,result}`.
 * Created once per registry (a second caller gets the same counters).
 */
import { Counter, type Registry } from 'prom-client';

export type ReceiverResult = 'accepted' | 'refused';

export interface ReceiverCounters {
  readonly records: Counter<'protocol' | 'result'>;
  readonly bytes: Counter<'protocol' | 'result'>;
}

export const RECEIVER_RECORDS = 'kjournal_receiver_records_total';
export const RECEIVER_BYTES = 'kjournal_receiver_bytes_total';

function counter(registry: Registry, name: string, help: string): Counter<'protocol' | 'result'> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'protocol' | 'result'>;
  return new Counter({ name, help, labelNames: ['protocol', 'result'], registers: [registry] });
}

/** The receivers' counters of `registry`, created on first use. */
export function receiverCounters(registry: Registry): ReceiverCounters {
  return {
    records: counter(
      registry,
      RECEIVER_RECORDS,
      'Records received by protocol (forward, syslog, gelf, splunk_hec, ...): accepted (stored) or refused.',
    ),
    bytes: counter(registry, RECEIVER_BYTES, 'Bytes received by protocol: accepted (stored) or refused.'),
  };
}

/** Counting for one protocol. */
export class ProtocolCounter {
  constructor(
    private readonly counters: ReceiverCounters,
    readonly protocol: string,
  ) {}

  count(result: ReceiverResult, records: number, bytes: number): void {
    if (records > 0) this.counters.records.inc({ protocol: this.protocol, result }, records);
    if (bytes > 0) this.counters.bytes.inc({ protocol: this.protocol, result }, bytes);
  }
}
