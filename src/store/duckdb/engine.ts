/**
 * @module The DuckDB engine: one in-memory DuckDB instance that queries our Parquet parts and
 * write-ahead-log segments. It keeps no database file of its own; everything durable is in files
 * that kjournal names and fsyncs itself.
 */
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue, ResultReturnType } from '@duckdb/node-api';

/**
 * A streamed query failed after its first rows: out of memory under concurrent queries, an unreadable
 * part, an interrupt. DuckDB's C API ends such a result with no chunk, as it ends a complete one, and
 * keeps the error in `duckdb_result_error` (duckdb-rs had the same gap: duckdb/duckdb-rs#832).
 * @duckdb/node-api 1.5.6 neither checks nor exposes it, so this error cannot say more than that the
 * rows read so far are not all of them. A later binding whose fetchChunk rejects with DuckDB's
 * message makes this check a fallback.
 */
export class IncompleteResultError extends Error {
  override readonly name = 'IncompleteResultError';
  readonly code = 'INCOMPLETE_RESULT';
  constructor() {
    // Worded so that it cannot be taken for an out-of-memory or a cancel (the store then looks for
    // a damaged file): it may be any of them.
    super('DuckDB failed part-way through a streamed result and did not report why');
  }
}

export interface EngineOptions {
  readonly threads: number;
  readonly memoryLimit: string;
  readonly tempDirectory: string;
  /** Cache Parquet footers between queries (for the query engine; parts are immutable). */
  readonly parquetMetadataCache?: boolean;
}

/**
 * Measured: converting 32 MB log segments again and again grew RSS without bound (600-900 MB) until
 * DuckDB was told to hand memory back after each task (`allocator_flush_threshold`); one thread
 * for background work then holds it near 220 MB. Queries get their own instance with both cores.
 */
const ALLOCATOR_FLUSH_THRESHOLD = '16MB';

/** Interrupts the connection's running query when `signal` aborts; returns the unsubscribe. */
function interruptOnAbort(conn: DuckDBConnection, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => {};
  const onAbort = (): void => conn.interrupt();
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

export class DuckDbEngine {
  private constructor(private readonly instance: DuckDBInstance) {}

  static async create(options: EngineOptions): Promise<DuckDbEngine> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads),
      memory_limit: options.memoryLimit,
      temp_directory: options.tempDirectory,
      // Parts are sorted by (stream, ts) and queries sort explicitly; insertion order is not needed.
      preserve_insertion_order: 'false',
      allocator_flush_threshold: ALLOCATOR_FLUSH_THRESHOLD,
      allocator_background_threads: 'true',
      // Nothing outside the data directory is ever read.
      enable_external_access: 'true',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    if (options.parquetMetadataCache) {
      const conn = await instance.connect();
      try {
        // An extension setting: it exists only once the instance does.
        await conn.run('SET GLOBAL parquet_metadata_cache = true');
      } finally {
        conn.closeSync();
      }
    }
    return new DuckDbEngine(instance);
  }

  /** Runs `fn` with a connection of its own, closed afterwards. */
  async with<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.instance.connect();
    try {
      return await fn(conn);
    } finally {
      conn.closeSync();
    }
  }

  /**
   * Streams the rows of a query in chunks. When `signal` aborts, DuckDB is interrupted and the
   * signal's reason is thrown.
   */
  async *rows(sql: string, params: DuckDBValue[], signal?: AbortSignal): AsyncGenerator<DuckDBValue[][]> {
    signal?.throwIfAborted();
    const conn = await this.instance.connect();
    const unwatch = interruptOnAbort(conn, signal);
    let open = false;
    try {
      // The deadline may have passed while connecting, before anything listened for it.
      signal?.throwIfAborted();
      const result = await conn.stream(sql, params);
      open = true;
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        yield chunk.getRows();
      }
      open = false;
      // A result that failed mid-way ended just like a complete one (measured: 200 answers with 0
      // or a third of the count under 200 concurrent queries). What tells them apart: a failed
      // result reports no return type (the C API answers INVALID for a result with an error).
      if (result.returnType === ResultReturnType.INVALID) {
        signal?.throwIfAborted();
        throw new IncompleteResultError();
      }
    } catch (err) {
      signal?.throwIfAborted();
      throw err;
    } finally {
      unwatch();
      if (open) {
        // Left before its end (the caller had enough): the result keeps the query's memory (its
        // sort, its buffers) until the garbage collector finalizes it, which may be never soon;
        // measured: forty such reads exhausted a 32 MB limit. A next statement on the connection
        // closes the pending result at once.
        conn.interrupt();
        await conn.run('SELECT 1').catch(() => undefined);
      }
      conn.closeSync();
    }
  }

  async all(sql: string, params: DuckDBValue[] = [], signal?: AbortSignal): Promise<DuckDBValue[][]> {
    signal?.throwIfAborted();
    return this.with(async (conn) => {
      const unwatch = interruptOnAbort(conn, signal);
      try {
        signal?.throwIfAborted();
        return (await conn.runAndReadAll(sql, params)).getRows();
      } catch (err) {
        signal?.throwIfAborted();
        throw err;
      } finally {
        unwatch();
      }
    });
  }

  close(): void {
    this.instance.closeSync();
  }
}
