/**
 * @module A small client for ClickHouse's HTTP interface. Why not `@clickhouse/client`: it has no
 * RowBinary reads (the store reads bodies byte for byte and 64-bit numbers exactly), and its query
 * parameters need a newer server than Debian's 18.16 (see /work/shared/notes/clickhouse-18.16.md);
 * what is left (POST a query, stream the answer, settings as URL parameters, credentials as
 * headers, a query id to KILL) is this file.
 *
 * Errors: ClickHouse answers a refused query with a non-200 status and `Code: N, e.displayText() =
 * DB::Exception: ...`; an error found after the answer started streaming arrives as that text at
 * the end of the body, which the RowBinary reader then fails on. Connection errors (the server is
 * down) become ClickHouseUnavailableError, which the API answers with 503.
 */
import { randomUUID } from 'node:crypto';
import { Agent, type IncomingMessage, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { StoreUnavailableError } from '../store.js';

export interface ClickHouseConnection {
  /** e.g. http://127.0.0.1:8123 */
  readonly url: string;
  readonly user?: string;
  readonly password?: string;
}

/** ClickHouse refused a query: `code` is its error code (e.g. 516 wrong password, 497 no rights). */
export class ClickHouseError extends Error {
  override readonly name = 'ClickHouseError';
  constructor(
    message: string,
    readonly code: number,
    readonly status: number,
  ) {
    super(message);
  }
}

/** ClickHouse cannot be reached (refused, reset, timed out): the store is unavailable, not wrong. */
export class ClickHouseUnavailableError extends StoreUnavailableError {
  override readonly name = 'ClickHouseUnavailableError';
}

/** Codes of ClickHouse errors that mean "who you are" rather than "what you asked". */
export const AUTH_CODES = new Set([192, 193, 194, 195, 516]);
/**
 * Codes of ClickHouse errors that mean "you may not": ACCESS_DENIED (497, the access control of
 * 20.x and later), DATABASE_ACCESS_DENIED (291: 18.16's `allow_databases`, "Access denied to
 * database kjournal for user ..."), READONLY (164: a `readonly` profile cannot create the schema).
 */
export const ACCESS_DENIED_CODES = new Set([497, 291, 164]);
/** TIMEOUT_EXCEEDED (max_execution_time). */
export const TIMEOUT_EXCEEDED = 159;
/** QUERY_WAS_CANCELLED. */
export const QUERY_WAS_CANCELLED = 394;
/** TOO_MANY_SIMULTANEOUS_QUERIES. */
export const TOO_MANY_QUERIES = 202;
/** MEMORY_LIMIT_EXCEEDED. */
export const MEMORY_LIMIT_EXCEEDED = 241;

const CODE = /Code: (\d+)/;

export function parseError(text: string, status: number): ClickHouseError {
  const code = Number(CODE.exec(text)?.[1] ?? 0);
  const message = text
    .replace(/^Code: \d+, e\.displayText\(\) = /, '')
    // The exception's class says nothing to a reader of the message.
    .replace(/^DB::Exception: /, '')
    .replace(/, e\.what\(\) = .*$/s, '')
    .replace(/\s*\(version [^)]*\)\s*$/, '')
    .trim();
  return new ClickHouseError(message || `HTTP ${status}`, code, status);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

function isNetworkError(err: unknown): boolean {
  return err instanceof Error && NETWORK_CODES.has((err as NodeJS.ErrnoException).code ?? '');
}

export interface QueryOptions {
  /** Sent in the body (SELECT, DDL) or, with `data`, in the URL (INSERT ... FORMAT). */
  readonly query: string;
  /** The INSERT's rows. */
  readonly data?: Buffer;
  /** ClickHouse settings, as URL parameters (18.16 has no SET over HTTP without a session). */
  readonly settings?: Readonly<Record<string, string | number>>;
  readonly signal?: AbortSignal;
  /** Its id; a cancelled query is KILLed by it. */
  readonly queryId?: string;
}

/** ClickHouse's default `max_query_size` (bytes of query text it parses). */
const DEFAULT_MAX_QUERY_SIZE = 256 * 1024;

/**
 * The `max_query_size` a query sent in the body needs (a long IN list of streams), or undefined
 * when the default holds it. Only as large as the query: ClickHouse allocates max_query_size bytes
 * for every query it parses from the body, and a fixed 16 MiB took 8 ms of a one-row INSERT (1 ms
 * with the default; measured on 18.16), the most of a push's latency on ClickHouse.
 */
export function querySize(query: string): number | undefined {
  // UTF-8 is at most 3 bytes per UTF-16 unit: only a query near the limit is measured exactly.
  if (query.length * 3 < DEFAULT_MAX_QUERY_SIZE) return undefined;
  const bytes = Buffer.byteLength(query, 'utf8');
  return bytes < DEFAULT_MAX_QUERY_SIZE ? undefined : bytes + 1;
}

export class ClickHouseHttp {
  private readonly base: URL;
  private readonly agent: Agent;
  private readonly headers: Record<string, string>;

  constructor(readonly connection: ClickHouseConnection) {
    this.base = new URL(connection.url);
    // Idle sockets are dropped before the server's keep-alive (10 s in our configs, 3 s by
    // default in older servers) closes them under a request.
    const options = { keepAlive: true, keepAliveMsecs: 1000, timeout: 2500, maxSockets: 32 };
    this.agent = this.base.protocol === 'https:' ? new HttpsAgent(options) : new Agent(options);
    this.headers = { 'X-ClickHouse-User': connection.user ?? 'default' };
    if (connection.password) this.headers['X-ClickHouse-Key'] = connection.password;
  }

  private url(opts: QueryOptions, database?: string): URL {
    const url = new URL(this.base.toString());
    if (database) url.searchParams.set('database', database);
    if (opts.queryId) url.searchParams.set('query_id', opts.queryId);
    for (const [k, v] of Object.entries(opts.settings ?? {})) url.searchParams.set(k, String(v));
    if (opts.data) url.searchParams.set('query', opts.query);
    else {
      const size = querySize(opts.query);
      if (size !== undefined && opts.settings?.max_query_size === undefined)
        url.searchParams.set('max_query_size', String(size));
    }
    return url;
  }

  /** Sends one request; resolves with the response once its status is known (200 only). */
  private send(opts: QueryOptions, retryStale = true): Promise<IncomingMessage> {
    const url = this.url(opts);
    const body = opts.data ?? Buffer.from(opts.query, 'utf8');
    const send = url.protocol === 'https:' ? httpsRequest : request;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...this.headers, 'Content-Length': String(body.length) },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      let reused = false;
      req.on('socket', (s) => {
        reused = (s as { _kjUsed?: boolean })._kjUsed === true;
        (s as { _kjUsed?: boolean })._kjUsed = true;
      });
      req.on('error', (err) => {
        if (opts.signal?.aborted) {
          reject(opts.signal.reason);
          return;
        }
        // A kept-alive socket the server closed just as it was reused: the request never reached
        // it (no answer at all), so sending it again on a new socket is safe.
        if (retryStale && reused && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
          this.send(opts, false).then(resolve, reject);
          return;
        }
        reject(
          isNetworkError(err)
            ? new ClickHouseUnavailableError(
                `ClickHouse at ${this.base.origin} is unreachable: ${err.message}`,
                {
                  cause: err,
                },
              )
            : err,
        );
      });
      req.on('response', (res) => {
        if (res.statusCode === 200) {
          resolve(res);
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => reject(parseError(Buffer.concat(chunks).toString('utf8'), res.statusCode ?? 0)));
      });
      req.end(body);
    });
  }

  /** Runs a statement and returns its whole answer. */
  async exec(opts: QueryOptions): Promise<Buffer> {
    const res = await this.send(opts);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Runs a query and returns its answer as text. */
  async text(opts: QueryOptions): Promise<string> {
    return (await this.exec(opts)).toString('utf8');
  }

  /** Rows of a `FORMAT JSONEachRow` query. */
  async json<T>(opts: QueryOptions): Promise<T[]> {
    const text = await this.text(opts);
    return text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as T);
  }

  /**
   * Streams a query's answer. When `signal` aborts, the request is dropped and the query is
   * KILLed by its id (18.16 does not cancel a query whose client went away).
   */
  async *stream(opts: QueryOptions): AsyncGenerator<Buffer> {
    const queryId = opts.queryId ?? randomUUID();
    const onAbort = () => {
      void this.kill(queryId);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let done = false;
    try {
      const res = await this.send({ ...opts, queryId });
      try {
        for await (const c of res) yield c as Buffer;
        done = true;
        // A query KILLed for the abort can end its answer cleanly, without the rows it had not
        // sent yet: that is not an answer (a timed-out scan came back as an empty success).
        if (opts.signal?.aborted) throw opts.signal.reason;
      } finally {
        if (!done) {
          res.destroy();
          // The caller stopped reading early (a page is full): the server need not go on.
          void this.kill(queryId);
        }
      }
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** KILL QUERY by id, not waiting for it to end; failures are ignored (it may be over). */
  async kill(queryId: string): Promise<void> {
    try {
      await this.exec({ query: `KILL QUERY WHERE query_id = ${quote(queryId)} ASYNC` });
    } catch {
      // Already finished, or the server is gone.
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * A ClickHouse string literal. Only a backslash and the quote need escaping in ClickHouse's
 * quoted strings; NUL is written as \0 so that no raw NUL reaches the SQL parser.
 */
export function quote(s: string): string {
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`).replace(/\0/g, '\\0')}'`;
}

/** An identifier we check rather than escape: databases and clusters named in the configuration. */
export function identifier(name: string, what: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new RangeError(
      `${what} ${JSON.stringify(name)} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)`,
    );
  return name;
}

/** A whole number written inline; refuses anything else. */
export function int(n: number | bigint): string {
  const s = n.toString();
  if (!/^-?\d+$/.test(s)) throw new Error(`not an integer: ${s}`);
  return s;
}
