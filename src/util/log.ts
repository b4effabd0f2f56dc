/**
 * @module The server's and the agent's own log: one line per event on stderr, at a level
 * (`--log-level debug|info|warn|error`) and in a format (`--log-format text|json`).
 *
 * - json: one object per line, `{"ts":"<RFC 3339, ms>","level":"info","msg":"...",...fields}`,
 *   the shape log collectors (kjournal's own agent, Fluent Bit, Vector) parse without a rule.
 * - text: `<ts> <level> <msg> key=value ...`, values quoted (Go's strconv.Quote style, as JSON
 *   strings) when they hold a space, a quote, an `=` or a control character, so that a stack trace
 *   or a multi-line message stays on its line.
 *
 * Lower layers do not import a logger: they take a `LineLog`, `(line, level?) => void`, the shape
 * their `log` options always had, and name a level only where it is not their caller's default
 * (`Logger.line(level)` makes one). A small module instead of pino: the lines are few (events,
 * not per-record logging), and it needs no worker thread or transport.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Values of an event's fields; undefined fields are left out. */
export type LogFields = Readonly<Record<string, string | number | boolean | bigint | undefined>>;

/** What lower layers take as their `log` option: a line, and its level when not the default. */
export type LineLog = (line: string, level?: LogLevel) => void;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Where whole lines (with their newline) go; process.stderr by default. */
  readonly write?: (line: string) => void;
  /** The clock, for tests. */
  readonly now?: () => Date;
  /** Lines without time and level (lineLogger). */
  readonly bare?: boolean;
}

export class Logger {
  readonly level: LogLevel;
  readonly format: LogFormat;
  private readonly min: number;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;
  private readonly bare: boolean;

  constructor(opts: LoggerOptions = {}) {
    this.level = opts.level ?? 'info';
    this.format = opts.format ?? 'text';
    this.min = RANK[this.level];
    this.write = opts.write ?? ((line) => process.stderr.write(line));
    this.now = opts.now ?? (() => new Date());
    this.bare = opts.bare ?? false;
  }

  /** Whether events of `level` are written: callers check it before building a debug line's fields. */
  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.min;
  }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] < this.min) return;
    if (this.bare) this.write(`${oneLine(msg)}${textFields(fields)}\n`);
    else if (this.format === 'json') this.write(`${jsonLine(this.now(), level, msg, fields)}\n`);
    else this.write(`${this.now().toISOString()} ${level} ${oneLine(msg)}${textFields(fields)}\n`);
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  /** A LineLog for a lower layer: its lines at `level` unless it names another. */
  line(level: LogLevel = 'info'): LineLog {
    return (line, at) => this.log(at ?? level, line);
  }
}

/**
 * A logger that hands each event's text (its message and fields, without time or level) to `log`:
 * for embedders and tests that give the server a `(line) => void`, as before there were levels.
 */
export function lineLogger(log: (line: string) => void, level: LogLevel = 'info'): Logger {
  return new Logger({ level, bare: true, write: (line) => log(line.slice(0, -1)) });
}

function jsonLine(ts: Date, level: LogLevel, msg: string, fields: LogFields | undefined): string {
  const o: Record<string, unknown> = { ts: ts.toISOString(), level, msg };
  if (fields)
    for (const k in fields) {
      const v = fields[k];
      if (v !== undefined && !(k in o)) o[k] = typeof v === 'bigint' ? v.toString() : v;
    }
  return JSON.stringify(o);
}

function textFields(fields: LogFields | undefined): string {
  let s = '';
  if (fields)
    for (const k in fields) {
      const v = fields[k];
      if (v !== undefined) s += ` ${k}=${textValue(String(v))}`;
    }
  return s;
}

/** The message with its line breaks written as `\n`: one line per event. */
function oneLine(msg: string): string {
  return /[\r\n]/.test(msg) ? msg.replace(/\r/g, '\\r').replace(/\n/g, '\\n') : msg;
}

function textValue(v: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is quoted
  return v === '' || /[\s"=\\\u0000-\u001f\u007f]/.test(v) ? JSON.stringify(v) : v;
}

/** A level or a format named on the command line or in the environment, or undefined. */
export function parseLogLevel(value: string): LogLevel | undefined {
  return (LOG_LEVELS as readonly string[]).includes(value) ? (value as LogLevel) : undefined;
}

export function parseLogFormat(value: string): LogFormat | undefined {
  return (LOG_FORMATS as readonly string[]).includes(value) ? (value as LogFormat) : undefined;
}

/** An error's stack (its message when it has none), for an `err` field. */
export function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

let fallback: Logger | undefined;

/**
 * The process's logger, for the few lines written where no logger was handed down (an internal
 * error outside a request): what `serve` and `agent` configured with `setDefaultLogger`, else
 * text at info on stderr.
 */
export function defaultLogger(): Logger {
  fallback ??= new Logger();
  return fallback;
}

export function setDefaultLogger(logger: Logger): void {
  fallback = logger;
}
