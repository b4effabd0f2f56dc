/**
 * @module `POST /ingest/audit` and `POST /ingest/events`: what Kubernetes itself sends, taken as is.
 *
 * - `/ingest/audit` takes what kube-apiserver's webhook backend posts (`application/json`: an
 *   `audit.k8s.io/v1` `EventList`, or one `Event`) and newline-delimited Events
 *   (`application/x-ndjson`, `application/jsonl` or `text/plain`, as the log backend writes them).
 * - `/ingest/events` takes core/v1 and events.k8s.io/v1 Events, EventLists and eventrouter lines
 *   (`{"verb":"ADDED","event":{...}}`), one document or several (pretty-printed is fine).
 *
 * Records are made exactly as `kjournal import` and the agent make them (src/formats), so the
 * same event stored by any path looks the same. A request with anything malformed is refused whole
 * with a 400 that says what and where, and stores nothing; JSON deeper than 1,000 levels or with
 * more than 2 million values is refused as it arrives (src/util/json-bounds.ts). Otherwise the answer (200, with the
 * number stored) comes only after the records are durable, so kube-apiserver's webhook retries
 * what was not acknowledged.
 *
 * Authorized by what it carries, as a push (auth/writes.ts): `create` on auditevents for audit
 * events, on events in each event's namespace; checked once the body is parsed, before anything is
 * stored.
 *
 * Times are checked as a push's are, with the same limits (model/validate-time.ts: Loki's
 * reject_old_samples_max_age and creation_grace_period, and the store's range). An event whose time
 * is refused is refused alone, as Loki's distributor does: the valid events are stored, then the
 * answer is a 400 listing the refused ones in Loki's grouped words, with the counts in headers
 * (formats/entry-counts.ts). Not "refuse whole": kube-apiserver's audit webhook retries only 5xx and
 * 429 (apiserver/plugin/pkg/audit/webhook, DefaultShouldRetry) and drops a batch on a 400, so one
 * event dated 2263 would take the valid events of its batch with it; and sent again, it would be
 * refused again, so a retry gains nothing.
 */

import type { AuditPolicy } from '../../audit/policy/index.js';
import { requireWrite } from '../../auth/writes.js';
import { auditParser } from '../../formats/audit.js';
import { entryCountHeaders } from '../../formats/entry-counts.js';
import { eventsParser } from '../../formats/events.js';
import { groupPushErrors, labelSetText } from '../../formats/loki-push/index.js';
import type { LineParser, ParserFactory, ParseSink } from '../../formats/types.js';
import type { Journal } from '../../journal/journal.js';
import { normalizeLabels } from '../../model/normalize.js';
import type { Labels, LogRecord } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { type TimeLimits, TimeWindow } from '../../model/validate-time.js';
import { JsonBoundsError, JsonBoundsScanner } from '../../util/json-bounds.js';
import { getOrCreate } from '../../util/maps.js';
import { readBody } from '../http/body.js';
import { HttpError, jsonBoundsHttpError } from '../http/errors.js';
import { type Handler, text as textReply } from '../http/router.js';

export interface KubeIngestOptions {
  /** Stores the records durably (audit policy, flows, store); resolves once they are. */
  readonly journal: Pick<Journal, 'write'>;
  readonly maxBodyBytes: number;
  /** The time limits of the push API (`ServerConfig.limits`). */
  readonly limits: TimeLimits;
  /** Told how many entries were refused, by reason (the server's discarded-lines metric). */
  readonly onRefused?: (reason: string, count: number) => void;
  readonly now?: () => bigint;
}

const LINE_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/json-lines', 'text/plain'];
const MAX_REASONS = 5;

/** `application/json` (one document) or one of the line-delimited types (one per line). */
function framing(contentType: string | undefined): 'document' | 'lines' {
  const type = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type === '') return 'document';
  if (LINE_TYPES.includes(type)) return 'lines';
  throw new HttpError(
    415,
    `unsupported Content-Type ${JSON.stringify(type)}: send application/json or application/x-ndjson`,
  );
}

/** Parses a body with one of the import's parsers; all records, or a 400 naming what is wrong. */
export function parseKubeBody(
  body: string,
  how: 'document' | 'lines',
  makeParser: (sink: ParseSink) => LineParser,
  what: string,
  now: bigint,
): LogRecord[] {
  const records: LogRecord[] = [];
  const reasons: string[] = [];
  let malformed = 0;
  const normalized = new Map<Labels, Labels>();
  const parser = makeParser({
    entry(labels, ts, line, attributes) {
      records.push({
        timestamp: ts,
        observedTimestamp: now,
        labels: getOrCreate(normalized, labels, () => normalizeLabels(labels)),
        attributes: attributes ?? {},
        body: line,
      });
    },
    malformed(lineNo, reason) {
      malformed++;
      if (reasons.length < MAX_REASONS) reasons.push(how === 'lines' ? `line ${lineNo}: ${reason}` : reason);
    },
  });
  if (how === 'document') {
    if (body.trim() === '') throw new HttpError(400, `empty body: expected ${what}`);
    parser.line(body, 1);
  } else {
    // Line by line without splitting: 64 MB of newlines would make an array of 64 million strings.
    for (let start = 0, lineNo = 1; start < body.length; lineNo++) {
      const nl = body.indexOf('\n', start);
      const end = nl < 0 ? body.length : nl;
      const text = body.slice(start, end);
      if (text.trim() !== '') parser.line(text, lineNo);
      start = end + 1;
    }
  }
  parser.end();
  if (malformed > 0) {
    const more = malformed > reasons.length ? ` (and ${malformed - reasons.length} more)` : '';
    throw new HttpError(400, `${reasons.join('; ')}${more}; nothing was stored`);
  }
  if (records.length === 0) throw new HttpError(400, `no ${what} in the body; nothing was stored`);
  return records;
}

function handler(
  opts: KubeIngestOptions,
  makeParser: ParserFactory,
  what: string,
  auditPolicy?: AuditPolicy | null,
): Handler {
  const now = opts.now ?? nowNs;
  return async ({ req, access }) => {
    const tenant = access.tenant;
    const how = framing(req.headers['content-type']);
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
      throw new HttpError(
        415,
        `unsupported Content-Encoding ${JSON.stringify(encoding)}: send the body as it is`,
      );
    }
    // Bounded as it arrives: a nested-JSON bomb is refused after its first kilobytes (json-bounds.ts).
    const bounds = new JsonBoundsScanner();
    const raw = await readBody(req, opts.maxBodyBytes, (chunk) => bounds.write(chunk)).catch(
      (err: unknown) => {
        throw err instanceof JsonBoundsError ? jsonBoundsHttpError(err) : err;
      },
    );
    const text = raw.toString('utf8');
    const t = now();
    const parser = (sink: ParseSink) => makeParser({ path: '(request)' }, sink);
    const records = parseKubeBody(text, how, parser, what, t);
    await requireWrite(access, records);
    const { accepted, errors, refused } = checkTimes(records, new TimeWindow(opts.limits, t));
    const ingested =
      accepted.length > 0
        ? await opts.journal.write(tenant, accepted, auditPolicy === undefined ? {} : { auditPolicy })
        : { stored: 0, duplicates: 0 };
    for (const reason in refused) opts.onRefused?.(reason, refused[reason]!);
    const headers = entryCountHeaders({
      stored: ingested.stored,
      duplicates: ingested.duplicates,
      refused,
    });
    if (errors.length > 0) {
      const reply = textReply(400, `${groupPushErrors(errors)}\n`);
      return { ...reply, headers: { ...reply.headers, ...headers } };
    }
    return {
      status: 200,
      headers: { 'content-type': 'application/json', ...headers },
      body: `${JSON.stringify({ received: records.length, stored: ingested.stored })}\n`,
    };
  };
}

/** The records whose times the store may take; Loki's message and the reason for each other one. */
function checkTimes(
  records: readonly LogRecord[],
  window: TimeWindow,
): { accepted: LogRecord[]; errors: string[]; refused: Record<string, number> } {
  const accepted: LogRecord[] = [];
  const errors: string[] = [];
  const refused: Record<string, number> = {};
  const texts = new Map<Labels, string>();
  for (const r of records) {
    const why = window.check(r.timestamp);
    if (why === undefined) {
      accepted.push(r);
      continue;
    }
    const stream = getOrCreate(texts, r.labels, () => labelSetText(r.labels));
    errors.push(window.message(stream, r.timestamp, why));
    refused[why] = (refused[why] ?? 0) + 1;
  }
  return { accepted, errors, refused };
}

/** `/ingest/audit`, with the audit policy (null: none, every event kept) applied before the flows. */
export function auditIngestHandler(opts: KubeIngestOptions, auditPolicy: AuditPolicy | null): Handler {
  return handler(opts, auditParser, 'audit events', auditPolicy);
}

export function eventsIngestHandler(opts: KubeIngestOptions): Handler {
  return handler(opts, eventsParser, 'Kubernetes events');
}
