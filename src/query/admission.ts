/**
 * @module Query admission: at most `maxConcurrent` queries run at once; the others wait in a queue
 * per tenant, served round-robin across tenants, of at most `maxQueued` each; a query beyond that
 * is refused at once with {@link TooManyOutstandingQueriesError} (429 "too many outstanding
 * requests", Loki's query-frontend text, pkg/queue/queue.go ErrTooManyRequests).
 *
 * Why: without it, 1,000 concurrent metric queries all ran together, shared DuckDB's memory limit
 * (`--query-memory-limit`) and answered 896 × 500 "Out of Memory Error", or with more memory all
 * crawled past the query timeout together (1,000 × 504, none answered). Running a few at a time
 * answers the first ones fast and keeps DuckDB within its limit.
 *
 * Reference: Loki's querier `max_concurrent` (`-querier.max-concurrent`, default 4 since Loki 2.9,
 * "increase this if queriers have more CPU") and the query frontend's `max_outstanding_per_tenant`
 * (`-querier.max-outstanding-requests-per-tenant`, 100 in Cortex, 2048 in Loki since #5204 because
 * Loki splits one query into many sub-queries by time and shard; a kjournal query is queued whole).
 *
 * A query's deadline starts when it arrives: time spent queued counts against `--query-timeout`,
 * and one whose deadline passes while still queued never ran, so it is refused like a full queue
 * (429 with Retry-After: try again), not answered 504.
 */
import { availableParallelism } from 'node:os';
import { StoreMemoryError } from '../store/store.js';

/** Memory DuckDB needs per query that runs at once, for the default concurrency (measured: a
 *  metric query over 200,000 lines peaks near 30 MiB with two threads; 32 MiB limits failed). */
const MEMORY_PER_QUERY = 32 << 20;

/** `--max-queued-queries`: queries one tenant may have waiting (Cortex's max_outstanding_per_tenant). */
export const DEFAULT_MAX_QUEUED_QUERIES = 100;

/**
 * `--max-concurrent-queries` by default: one per CPU (DuckDB and the evaluator are CPU-bound: more
 * at once only splits the CPU and adds memory), at most one per 32 MiB of the query memory limit
 * (DuckDB's limit is shared by every query running at once), at least one.
 */
export function defaultMaxConcurrentQueries(queryMemoryBytes: number, cpus = availableParallelism()): number {
  return Math.max(1, Math.min(cpus, Math.floor(queryMemoryBytes / MEMORY_PER_QUERY)));
}

/** The queue is full, or the query's deadline passed while it waited: answered 429. */
export class TooManyOutstandingQueriesError extends Error {
  override readonly name = 'TooManyOutstandingQueriesError';
  readonly code = 'too_many_outstanding_requests';
  constructor(
    /** Seconds after which trying again is likely to be admitted (the `Retry-After` header). */
    readonly retryAfterSeconds: number,
    message = 'too many outstanding requests',
  ) {
    super(message);
  }
}

/**
 * The store refused memory for a query (StoreMemoryError): the query needs more than the
 * memory limit leaves it. Not a server fault, and never a partial answer: answered 503.
 */
export class QueryMemoryLimitError extends Error {
  override readonly name = 'QueryMemoryLimitError';
  readonly code = 'query_memory_limit';
  constructor(limit: string, cause: Error) {
    const first = cause.message.split('\n', 1)[0] ?? '';
    super(
      `the query needs more memory than --query-memory-limit (${readableSize(limit)}) leaves it: narrow its time ` +
        `range or selector, or raise the limit (${first})`,
      { cause },
    );
  }
}

/** `201326592B` (as serve hands DuckDB the limit) as `192MiB`; other forms as they are. */
function readableSize(limit: string): string {
  const m = /^(\d+)B$/.exec(limit);
  const n = m ? Number(m[1]) : Number.NaN;
  return n > 0 && n % (1 << 20) === 0 ? `${n / (1 << 20)}MiB` : limit;
}

export interface AdmissionOptions {
  readonly maxConcurrent: number;
  /** Per tenant; 0 refuses every query that cannot run at once. */
  readonly maxQueued: number;
  /** The query memory limit as configured, for {@link QueryMemoryLimitError}'s message. */
  readonly memoryLimit?: string;
}

interface Waiter {
  readonly tenant: string;
  readonly resolve: (release: () => void) => void;
  readonly reject: (err: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** Weight of the newest run time in the moving average behind Retry-After. */
const EWMA_WEIGHT = 0.2;
const MAX_RETRY_AFTER_SECONDS = 60;

export class QueryAdmission {
  private active = 0;
  private waiting = 0;
  /** Tenants with waiting queries, in round-robin order (a served tenant moves to the back). */
  private readonly queues = new Map<string, Waiter[]>();
  private averageMs = 100;
  /** Queries refused (queue full) and expired (deadline passed while queued), for /metrics. */
  rejected = 0;
  expired = 0;

  constructor(readonly options: AdmissionOptions) {
    if (!(options.maxConcurrent >= 1)) throw new RangeError('maxConcurrent must be at least 1');
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting;
  }

  /**
   * A slot to run one query: resolves with its release (call it once, when the query is done),
   * or rejects with TooManyOutstandingQueriesError. `signal` is the query's deadline.
   */
  acquire(tenant: string, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.options.maxConcurrent && this.waiting === 0) {
      return Promise.resolve(this.start());
    }
    const queue = this.queues.get(tenant);
    if ((queue?.length ?? 0) >= this.options.maxQueued) {
      this.rejected++;
      return Promise.reject(new TooManyOutstandingQueriesError(this.retryAfterSeconds()));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        tenant,
        resolve,
        reject,
        signal,
        onAbort: () => {
          if (!this.remove(waiter)) return;
          this.expired++;
          reject(new TooManyOutstandingQueriesError(this.retryAfterSeconds()));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      if (queue) queue.push(waiter);
      else this.queues.set(tenant, [waiter]);
      this.waiting++;
    });
  }

  /** Runs `fn` in a slot; the store's StoreMemoryError becomes a QueryMemoryLimitError. */
  async run<T>(tenant: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(tenant, signal);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StoreMemoryError)
        throw new QueryMemoryLimitError(this.options.memoryLimit ?? 'its limit', err);
      throw err;
    } finally {
      release();
    }
  }

  /** Seconds until a slot is likely free: the queries ahead times the average run time. */
  retryAfterSeconds(): number {
    const ahead = (this.waiting + this.active) / this.options.maxConcurrent;
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil((ahead * this.averageMs) / 1000)));
  }

  private start(): () => void {
    this.active++;
    const started = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      const ms = performance.now() - started;
      this.averageMs += EWMA_WEIGHT * (ms - this.averageMs);
      this.dispatch();
    };
  }

  private dispatch(): void {
    while (this.active < this.options.maxConcurrent && this.waiting > 0) {
      const first = this.queues.entries().next();
      if (first.done) return;
      const [tenant, queue] = first.value;
      const waiter = queue.shift()!;
      this.queues.delete(tenant);
      if (queue.length > 0) this.queues.set(tenant, queue);
      this.waiting--;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.start());
    }
  }

  private remove(waiter: Waiter): boolean {
    const queue = this.queues.get(waiter.tenant);
    const i = queue?.indexOf(waiter) ?? -1;
    if (!queue || i < 0) return false;
    queue.splice(i, 1);
    if (queue.length === 0) this.queues.delete(waiter.tenant);
    this.waiting--;
    return true;
  }
}
