/**
 * @module Delete requests, as Loki's compactor keeps them (pkg/compactor/deletion): a tenant asks
 * that the entries a LogQL selector (with line filters) selects in [start, end] be deleted. From the
 * moment a request is received its entries are left out of every read (Loki's query-time filtering
 * of `filter-and-delete` mode); it can be cancelled until its cancel period has passed
 * (`--delete-request-cancel-period`, Loki's `delete_request_cancel_period`, 24h by default); then the
 * store removes the entries from disk for good (Store.purge) and the request is `processed`. A
 * processed request stays in force, so that nothing it selected comes back.
 *
 * The requests are kept in `<data>/delete-requests.json`, written atomically on every change.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../disk/fsync.js';
import { isLogExpr } from '../logql/ast.js';
import { parseLogql } from '../logql/parser.js';
import { planLog } from '../logql/plan.js';
import type { Deletion, LabelMatcher, LineFilter, Store } from '../store/store.js';
import type { LineLog } from '../util/log.js';

export type DeleteStatus = 'received' | 'processed';

/** Loki's default `delete_request_cancel_period`. */
export const DEFAULT_DELETE_CANCEL_PERIOD = 24n * 3_600_000_000_000n;

export interface DeleteRequest {
  readonly id: string;
  readonly tenant: string;
  readonly query: string;
  /** Nanoseconds, both inclusive. */
  readonly start: bigint;
  readonly end: bigint;
  readonly createdAt: bigint;
  status: DeleteStatus;
  /**
   * Matchers added to the query's: the kinds and namespaces its user was allowed to delete when the
   * request was taken, so that it never hides entries of others that arrive later. Absent: none.
   */
  readonly scope?: readonly LabelMatcher[];
}

/** A request that cannot be taken or changed as asked: a 400 (404 for an unknown id). */
export class DeleteRequestError extends Error {
  override readonly name = 'DeleteRequestError';
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
  ) {
    super(message);
  }
}

/**
 * A deletion query: a stream selector with line filters only, as Loki's parseDeletionQuery takes
 * it (what its compactor can match chunk by chunk).
 */
export function parseDeletionQuery(query: string): { matchers: LabelMatcher[]; lineFilters: LineFilter[] } {
  const expr = parseLogql(query);
  if (!isLogExpr(expr))
    throw new DeleteRequestError('invalid query: a deletion needs a log selector, not a metric query');
  const plan = planLog(expr);
  if (plan.rest.length > 0) {
    throw new DeleteRequestError(
      `invalid query: a deletion takes a stream selector and line filters only, not ${plan.rest[0]!.type}`,
    );
  }
  return { matchers: [...plan.matchers], lineFilters: [...plan.lineFilters] };
}

interface Stored {
  id: string;
  tenant: string;
  query: string;
  start: string;
  end: string;
  createdAt: string;
  status: DeleteStatus;
  scope?: readonly LabelMatcher[];
}

export interface DeleteRequestsOptions {
  readonly dataDir: string;
  readonly store: Store;
  /** How long a request can be cancelled before its entries are removed from disk (ns). */
  readonly cancelPeriod: bigint;
  readonly now: () => bigint;
  readonly log: LineLog;
  /** How often due requests are looked for (ms). */
  readonly intervalMs?: number;
}

export class DeleteRequests {
  private requests: DeleteRequest[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly opts: DeleteRequestsOptions) {}

  private get path(): string {
    return join(this.opts.dataDir, 'delete-requests.json');
  }

  /** Loads the requests, puts them in force, and starts processing the due ones. */
  async open(): Promise<void> {
    try {
      const stored = JSON.parse(await readFile(this.path, 'utf8')) as Stored[];
      this.requests = stored.map((r) => ({
        ...r,
        start: BigInt(r.start),
        end: BigInt(r.end),
        createdAt: BigInt(r.createdAt),
      }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.enforce();
    // Due requests are looked for once a minute; with a cancel period under a minute, every second.
    const every = this.opts.intervalMs ?? (this.opts.cancelPeriod < 60_000_000_000n ? 1000 : 60_000);
    const tick = (): void => {
      if (this.closed) return;
      this.timer = setTimeout(() => {
        this.process().finally(tick);
      }, every);
      this.timer.unref();
    };
    tick();
  }

  close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    return this.running;
  }

  /** Takes a request; its entries leave every read at once. */
  async add(
    tenant: string,
    query: string,
    start: bigint,
    end: bigint,
    scope: readonly LabelMatcher[] = [],
  ): Promise<DeleteRequest> {
    parseDeletionQuery(query);
    const request: DeleteRequest = {
      id: randomBytes(4).toString('hex'),
      tenant,
      query,
      start,
      end,
      createdAt: this.opts.now(),
      status: 'received',
      ...(scope.length > 0 ? { scope } : {}),
    };
    this.requests.push(request);
    await this.save();
    this.enforce();
    this.opts.log(`delete request ${request.id} of tenant ${tenant} received: ${query}`);
    return request;
  }

  /** The tenant's requests, oldest first. */
  list(tenant: string): DeleteRequest[] {
    return this.requests
      .filter((r) => r.tenant === tenant)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
  }

  /** Cancels a request not yet processed (Loki's texts); its entries come back to reads. */
  async cancel(tenant: string, id: string): Promise<void> {
    const i = this.requests.findIndex((r) => r.tenant === tenant && r.id === id);
    if (i < 0) throw new DeleteRequestError('could not find delete request with given id', 404);
    if (this.requests[i]!.status !== 'received') {
      throw new DeleteRequestError(
        'deletion of request which is in process or already processed is not allowed',
      );
    }
    this.requests.splice(i, 1);
    await this.save();
    this.enforce();
  }

  /** Removes from disk the entries of every request past its cancel period. */
  process(): Promise<void> {
    this.running = this.running.then(async () => {
      const due = this.requests.filter(
        (r) => r.status === 'received' && r.createdAt + this.opts.cancelPeriod <= this.opts.now(),
      );
      for (const r of due) {
        try {
          await this.opts.store.purge(this.deletionOf(r));
          r.status = 'processed';
          await this.save();
          this.opts.log(
            `delete request ${r.id} of tenant ${r.tenant} processed: its entries are gone from disk`,
          );
        } catch (err) {
          this.opts.log(
            `delete request ${r.id}: processing failed, will retry: ${(err as Error).message}`,
            'warn',
          );
        }
      }
    });
    return this.running;
  }

  private deletionOf(r: DeleteRequest): Deletion {
    const { matchers, lineFilters } = parseDeletionQuery(r.query);
    return {
      id: r.id,
      tenant: r.tenant,
      start: r.start,
      end: r.end,
      matchers: [...matchers, ...(r.scope ?? [])],
      lineFilters,
    };
  }

  private enforce(): void {
    this.opts.store.setDeletions(this.requests.map((r) => this.deletionOf(r)));
  }

  private save(): Promise<void> {
    const stored: Stored[] = this.requests.map((r) => ({
      ...r,
      ...(r.scope ? { scope: [...r.scope] } : {}),
      start: String(r.start),
      end: String(r.end),
      createdAt: String(r.createdAt),
    }));
    return writeFileAtomic(this.path, JSON.stringify(stored));
  }
}
