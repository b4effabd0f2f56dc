/**
 * @module The journal: the server's one way in for records, whatever API brought them (the Loki
 * push, /ingest/audit and /ingest/events, the agent and `kjournal import`, which push). In order:
 * the admission of writes on a full disk (journal/disk-full.ts), the audit policy (for the audit
 * intake), the pipeline's flows when configured (what goes to other outputs is queued there; what
 * goes to `journal` comes back), then the store (durable before a write resolves), the live tails
 * (journal/tail-hub.ts) and the ingest metrics. The Loki push API uses the flows but not the audit
 * policy: a Loki push stores what the client sent, as Loki does.
 *
 * Errors are the journal's own (DiskFullError, RefusedRecordsError); each API turns them into its
 * replies.
 */
import type { Counter } from 'prom-client';
import { type AuditPolicy, applyPolicyToRecords } from '../audit/policy/index.js';
import { type DiskSpaceWatch, isNoSpaceError } from '../disk/disk-space.js';
import type { LogRecord } from '../model/record.js';
import type { Pipeline } from '../pipeline/runtime.js';
import { feedTails } from '../store/follow.js';
import { type AppendResult, InvalidEntryError, type Store } from '../store/store.js';
import { DiskFullError, diskFullError } from './disk-full.js';
import { RefusedRecordsError } from './errors.js';
import { TailHub } from './tail-hub.js';

/** What the journal counts (the server's registry has them: server/metrics.ts). */
export interface JournalMetrics {
  readonly ingestedLines: Counter<'tenant'>;
  readonly ingestedBytes: Counter<'tenant'>;
  readonly discardedLines: Counter<'reason'>;
}

export interface JournalOptions {
  readonly store: Store;
  readonly metrics: JournalMetrics;
  /** Free space on the data volume: writes are refused while it is low. Absent: never refused. */
  readonly disk?: DiskSpaceWatch;
  /** The flows (`--config`); absent: every record goes to the store as it came. */
  readonly pipeline?: Pipeline;
  /** The live tails, fed with what the store announces (one per server); absent: a new hub. */
  readonly tails?: TailHub;
}

export interface Appended {
  /** Records stored locally (after the policy and the flows), duplicates not counted. */
  readonly stored: number;
  /** Records equal to ones already stored (stream, time and line): acknowledged, not stored again. */
  readonly duplicates: number;
  /** The sequence number of the first record stored (see AppendResult); absent for no records. */
  readonly firstSeq?: bigint;
}

export interface WriteOptions {
  /**
   * The audit policy to apply first (the audit intake): a policy, or null for none (every event
   * kept). Absent: no policy step at all (a Loki push stores what the client sent).
   */
  readonly auditPolicy?: AuditPolicy | null;
  /** The records' body bytes, when the caller has counted them already. */
  readonly knownBytes?: number;
}

export class Journal {
  /** Live tails and watches subscribe here to what the store appends. */
  readonly tails: TailHub;

  constructor(
    private readonly options: JournalOptions,
    /** The hub of the journal this one extends (withFlows), fed already. */
    fedTails?: TailHub,
  ) {
    if (fedTails) this.tails = fedTails;
    else {
      const tails = options.tails ?? new TailHub();
      // Tails learn of appends from the store (Store.watchAppends), whoever made them, not from
      // this journal's writes: a second replica's appends to a shared store reach them too. The
      // feed runs only while a tail or watch listens (subscribed synchronously with the first, so
      // nothing appended after it subscribed is missed): ingest without tails pays nothing for it.
      let stop: (() => void) | undefined;
      tails.onActive((active) => {
        if (active) {
          stop ??= feedTails(options.store, (tenant, records, firstSeq) =>
            tails.publish(tenant, records, firstSeq),
          );
        } else {
          stop?.();
          stop = undefined;
        }
      });
      this.tails = tails;
    }
  }

  /** The same journal with flows in front of the store (once the pipeline runs). */
  withFlows(pipeline: Pipeline): Journal {
    return new Journal({ ...this.options, pipeline }, this.tails);
  }

  /** Throws DiskFullError while the data volume is low: a write is refused before it is read. */
  admitWrite(): void {
    const disk = this.options.disk;
    if (disk?.low) throw diskFullError(disk);
  }

  /**
   * Writes records as an intake received them: the audit policy (when given), then the flows (when
   * configured), then the store.
   */
  async write(tenant: string, records: LogRecord[], opts: WriteOptions = {}): Promise<Appended> {
    const kept = opts.auditPolicy === undefined ? records : applyPolicyToRecords(opts.auditPolicy, records);
    const pipeline = this.options.pipeline;
    if (pipeline) return this.append(tenant, pipeline.process(kept));
    // Without flows the stored records are the received ones, whose bytes the caller may have counted.
    return this.append(tenant, kept, kept === records ? opts.knownBytes : undefined);
  }

  /**
   * Stores records durably, as they are (no policy, no flows: what the flows route to `journal`);
   * the store announces them to live tails. A record the store refuses is a RefusedRecordsError; a full
   * disk a DiskFullError, after which writes are refused until a sample finds room again.
   */
  async append(
    tenant: string,
    records: LogRecord[],
    /** The records' body bytes, when the caller has counted them already. */
    knownBytes?: number,
  ): Promise<Appended> {
    if (records.length === 0) return { stored: 0, duplicates: 0 };
    const { store, metrics } = this.options;
    let appended: AppendResult;
    try {
      appended = await store.append(tenant, records);
    } catch (err) {
      if (err instanceof InvalidEntryError) {
        throw new RefusedRecordsError('INVALID_ENTRY', err.message, { cause: err });
      }
      // The log cut itself back to what was acknowledged: nothing of this append was stored.
      if (isNoSpaceError(err)) {
        this.options.disk?.noteNoSpace();
        throw new DiskFullError(
          'insufficient storage: the data volume is full (ENOSPC); nothing was stored',
          {
            cause: err,
          },
        );
      }
      throw err;
    }
    const { stored, duplicates } = appended;
    let bytes = duplicates === 0 ? (knownBytes ?? -1) : -1;
    if (bytes < 0) {
      bytes = 0;
      for (const r of stored) bytes += Buffer.byteLength(r.body);
    }
    metrics.ingestedLines.inc({ tenant }, stored.length);
    metrics.ingestedBytes.inc({ tenant }, bytes);
    if (duplicates > 0) metrics.discardedLines.inc({ reason: 'duplicate' }, duplicates);
    return { stored: stored.length, duplicates, firstSeq: appended.firstSeq };
  }
}
