/**
 * @module The `Output` interface: where a flow sends records (another kjournal, Loki,
 * Elasticsearch, a webhook, Graylog, Splunk, syslog, S3, Fluentd forward, a file; the local store
 * is the `journal` output). An implementation only knows its peer's wire format: batching,
 * retries with backoff, the bounded on-disk buffer, the dead-letter file and per-output metrics are
 * added around every output by the pipeline runtime (src/pipeline/outputs/buffered.ts), the same for all.
 *
 * `send` resolves only when the peer has acknowledged the whole batch (HTTP 2xx, a Fluentd ack, a
 * TCP write flushed for protocols with no acknowledgement). It rejects with an `OutputError`:
 * `retryable: true` when the peer is down or failed (connection refused, timeout, 5xx, 429), so the
 * batch is sent again from the buffer; `retryable: false` when the peer rejected the data itself
 * (other 4xx), so the batch goes to the dead-letter file with the reason. Every output passes the
 * contract suite in test/pipeline/outputs/output-contract.ts.
 */

import type { Options } from '../../config/options.js';
import type { LogRecord } from '../../model/record.js';

export interface Output {
  /** The output's name in the configuration (unique). */
  readonly name: string;
  /** Its type (`loki`, `syslog`...). */
  readonly type: string;
  send(records: readonly LogRecord[], signal: AbortSignal): Promise<void>;
  /** Releases sockets and timers. */
  close(): Promise<void>;
}

export class OutputError extends Error {
  constructor(
    message: string,
    /** True when sending the same batch later may succeed. */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutputError';
  }
}

export interface OutputContext {
  /** Directory of the configuration file, for relative paths (CA files, `file` output paths). */
  readonly baseDir: string;
}

/** Builds an output from its options; throws `ConfigError` naming the field on bad options. */
export type OutputFactory = (name: string, options: Options, ctx: OutputContext) => Output;

/** An HTTP status as an OutputError: 429 and 5xx retryable, other 4xx rejected. */
export function httpStatusError(peer: string, status: number, body: string): OutputError {
  const retryable = status === 429 || status === 408 || status >= 500;
  const text = body.length > 500 ? `${body.slice(0, 500)}...` : body;
  return new OutputError(`${peer} answered ${status}${text ? `: ${text.trim()}` : ''}`, retryable);
}

/** A network failure (refused, reset, timeout, DNS) as a retryable OutputError. */
export function networkError(peer: string, err: unknown): OutputError {
  const msg = err instanceof Error ? err.message : String(err);
  return new OutputError(`${peer}: ${msg}`, true, { cause: err });
}
