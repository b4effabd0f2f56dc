/**
 * @module The pipeline's metrics on a prom-client Registry the host passes in: per flow (records
 * in, out, dropped by its filters) and per output (sent, failed sends, dead-lettered, dropped,
 * buffered bytes). Metrics are created once per registry and shared by every flow and output (a
 * label tells them apart), so a pipeline rebuilt on the same registry reuses them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Gauge) return existing as Gauge<L>;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

export interface FlowMetrics {
  readonly recordsIn: Counter<'flow'>;
  readonly recordsOut: Counter<'flow'>;
  readonly recordsDropped: Counter<'flow'>;
  /** Records no flow took (so they went nowhere). */
  readonly unrouted: Counter;
}

export function flowMetrics(registry: Registry): FlowMetrics {
  return {
    recordsIn: counter(registry, 'kjournal_flow_records_in_total', 'Records a flow took (its match)', [
      'flow',
    ]),
    recordsOut: counter(
      registry,
      'kjournal_flow_records_out_total',
      'Records a flow passed to its outputs (after its filters)',
      ['flow'],
    ),
    recordsDropped: counter(
      registry,
      'kjournal_flow_records_dropped_total',
      "Records a flow's filters dropped",
      ['flow'],
    ),
    unrouted: counter(registry, 'kjournal_pipeline_unrouted_records_total', 'Records that no flow took', []),
  };
}

export interface OutputMetrics {
  readonly sent: Counter<'output'>;
  readonly failedSends: Counter<'output' | 'retryable'>;
  readonly deadLetter: Counter<'output'>;
  readonly dropped: Counter<'output' | 'reason'>;
  readonly bufferBytes: Gauge<'output'>;
}

export function outputMetrics(registry: Registry): OutputMetrics {
  return {
    sent: counter(registry, 'kjournal_output_sent_records_total', 'Records the output peer acknowledged', [
      'output',
    ]),
    failedSends: counter(
      registry,
      'kjournal_output_failed_sends_total',
      'Batches the output failed to send, by whether the failure is retryable',
      ['output', 'retryable'],
    ),
    deadLetter: counter(
      registry,
      'kjournal_output_dead_letter_records_total',
      'Records the peer rejected, written to the dead-letter file',
      ['output'],
    ),
    dropped: counter(
      registry,
      'kjournal_output_dropped_records_total',
      'Records an output did not take, by reason (buffer_full, closed, write_error, unreadable)',
      ['output', 'reason'],
    ),
    bufferBytes: gauge(registry, 'kjournal_output_buffer_bytes', 'Bytes of records waiting to be sent', [
      'output',
    ]),
  };
}
