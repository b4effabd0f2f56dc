/**
 * @module The pipeline at run time, the same in `serve` and `agent`: `process(records)` offers every
 * record to every flow (flows.ts); each flow that takes it runs its own copy through its filters in
 * order and hands the result to its outputs. What goes to `journal` is returned, for the host to
 * store in its own durable path (the server's WAL, the agent's buffer and shipper); what goes to a
 * declared output is enqueued to that output's BufferedOutput, which never blocks the caller.
 * Without any flow every record goes to `journal` unchanged. A record no flow takes goes nowhere
 * (counted in `kjournal_pipeline_unrouted_records_total`).
 *
 * A record that reaches one output through several flows unchanged (the same object) is sent to it
 * once; changed copies are sent each.
 */
import { dirname, join, resolve } from 'node:path';
import type { Registry } from 'prom-client';
import type { LogRecord } from '../model/record.js';
import type { LineLog } from '../util/log.js';
import { getOrCreate } from '../util/maps.js';
import type { FlowConfig, PipelineConfig } from './config.js';
import { applyFilters, flowTakes } from './flows.js';
import { type FlowMetrics, flowMetrics } from './metrics.js';
import { BufferedOutput } from './outputs/buffered.js';
import { JOURNAL_OUTPUT } from './outputs/journal.js';
import type { Output } from './outputs/output.js';

export interface PipelineOptions {
  readonly config: PipelineConfig;
  /** The host's local store (serve: appends to its store; agent: ships to its server). */
  readonly journal: Output;
  /** Buffers of outputs without `buffer.dir` live under `<stateDir>/outputs`. */
  readonly stateDir: string;
  readonly registry: Registry;
  readonly log?: LineLog;
  /** Passed to every BufferedOutput (tests shorten them). */
  readonly sendTimeoutMs?: number;
  readonly random?: () => number;
}

export class Pipeline {
  private readonly flows: readonly FlowConfig[];
  private readonly metrics: FlowMetrics;
  private readonly inflight = new Set<Promise<void>>();

  private constructor(
    private readonly options: PipelineOptions,
    readonly outputs: ReadonlyMap<string, BufferedOutput>,
  ) {
    this.flows = options.config.flows;
    this.metrics = flowMetrics(options.registry);
  }

  /** Opens every declared output's buffer (sending what a previous run left) and starts them. */
  static async start(options: PipelineOptions): Promise<Pipeline> {
    const { config } = options;
    const opened = new Map<string, BufferedOutput>();
    try {
      for (const o of config.outputs) {
        const dir = o.buffer.dir
          ? resolve(dirname(config.file), o.buffer.dir)
          : join(options.stateDir, 'outputs');
        opened.set(
          o.name,
          await BufferedOutput.open({
            output: o.output,
            dir,
            maxBytes: o.buffer.maxBytes,
            batch: o.batch,
            retry: o.retry,
            registry: options.registry,
            ...(options.log ? { log: options.log } : {}),
            ...(options.sendTimeoutMs !== undefined ? { sendTimeoutMs: options.sendTimeoutMs } : {}),
            ...(options.random ? { random: options.random } : {}),
          }),
        );
      }
    } catch (err) {
      await Promise.allSettled([...opened.values()].map((b) => b.close(0)));
      await Promise.allSettled(
        config.outputs.filter((o) => !opened.has(o.name)).map((o) => o.output.close()),
      );
      throw err;
    }
    return new Pipeline(options, opened);
  }

  get journal(): Output {
    return this.options.journal;
  }

  /**
   * Runs the flows; returns the records for `journal` (for the host to store) and enqueues the rest
   * to their outputs without waiting.
   */
  process(records: readonly LogRecord[]): LogRecord[] {
    if (this.flows.length === 0) return [...records];
    const routed = new Map<string, { records: LogRecord[]; seen: Set<LogRecord> }>();
    const counts = this.flows.map(() => ({ in: 0, out: 0, dropped: 0 }));
    let unrouted = 0;
    for (const record of records) {
      let taken = false;
      this.flows.forEach((flow, i) => {
        if (!flowTakes(flow.match, record)) return;
        taken = true;
        const c = counts[i]!;
        c.in++;
        const out = applyFilters(flow.filters, record);
        if (out === null) {
          c.dropped++;
          return;
        }
        c.out++;
        for (const name of flow.outputs) {
          const r = getOrCreate(routed, name, () => ({ records: [], seen: new Set<LogRecord>() }));
          if (r.seen.has(out)) continue;
          r.seen.add(out);
          r.records.push(out);
        }
      });
      if (!taken) unrouted++;
    }
    this.flows.forEach((flow, i) => {
      const c = counts[i]!;
      if (c.in > 0) this.metrics.recordsIn.inc({ flow: flow.name }, c.in);
      if (c.out > 0) this.metrics.recordsOut.inc({ flow: flow.name }, c.out);
      if (c.dropped > 0) this.metrics.recordsDropped.inc({ flow: flow.name }, c.dropped);
    });
    if (unrouted > 0) this.metrics.unrouted.inc(unrouted);
    for (const [name, r] of routed) {
      if (name === JOURNAL_OUTPUT) continue;
      const p = this.outputs.get(name)!.enqueue(r.records);
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    }
    return routed.get(JOURNAL_OUTPUT)?.records ?? [];
  }

  /** `process`, then sends the journal's records through the host's journal Output. */
  async deliver(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
    const local = this.process(records);
    if (local.length > 0) await this.options.journal.send(local, signal);
  }

  /** Resolves once every record enqueued so far is fsynced in its output's buffer. */
  async settled(): Promise<void> {
    await Promise.all([...this.inflight]);
  }

  /**
   * Closes every declared output: each flushes what it can within `deadlineMs` (in parallel). The
   * journal Output is the host's, and the host closes it.
   */
  async close(deadlineMs = 5000): Promise<void> {
    await this.settled();
    await Promise.allSettled([...this.outputs.values()].map((b) => b.close(deadlineMs)));
  }
}
