/**
 * @module The `s3` output: any S3-compatible object store (AWS S3, MinIO, Ceph RGW, GCS's XML API).
 * Each batch becomes one gzip-compressed NDJSON object (one record-json.ts line per record) under
 * `<prefix>%Y/%m/%d/%H/<first timestamp ns>-<content hash>.ndjson.gz`, the date being the batch's
 * first record in UTC. The name is derived from the content, so a batch sent again after an
 * unacknowledged PUT overwrites the same object instead of adding a duplicate.
 *
 * Requests are `PUT` signed with AWS Signature V4 (aws4). Path-style URLs
 * (`<endpoint>/<bucket>/<key>`) with `forcePathStyle: true`, else virtual-hosted
 * (`<bucket>.<endpoint host>/<key>`).
 *
 * Options: `bucket` (required), `region` (default us-east-1), `endpoint` (default
 * https://s3.<region>.amazonaws.com), `forcePathStyle` (default false), `accessKeyId`,
 * `secretAccessKey`, `sessionToken` (default: the AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN environment variables), `prefix` (default empty; end it with `/`), `tls`, `timeout`.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import aws4 from 'aws4';
import type { Options } from '../../../config/options.js';
import type { LogRecord } from '../../../model/record.js';
import { httpStatusError, type Output, type OutputContext, type OutputFactory } from '../output.js';
import { DEFAULT_TIMEOUT_MS, readDurationMs, readTls, readUrl } from './common.js';
import { recordJsonLine } from './record-json.js';
import { aborted, bodyText, HttpTransport } from './transport.js';

const gzip = promisify(gzipCb);

export interface S3Settings {
  readonly bucket: string;
  readonly region: string;
  readonly endpoint: URL;
  readonly forcePathStyle: boolean;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly prefix: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The object key of a batch whose NDJSON text is `ndjson`. */
export function objectKey(prefix: string, first: LogRecord, ndjson: string): string {
  const d = new Date(Number(first.timestamp / 1_000_000n));
  const dir = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}/`;
  const hash = createHash('sha256').update(ndjson).digest('hex').slice(0, 16);
  return `${prefix}${dir}${first.timestamp}-${hash}.ndjson.gz`;
}

/** A key as a URL path: each segment percent-encoded as S3 signs it (RFC 3986). */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

/** The URL of an object (path-style or virtual-hosted). */
export function objectUrl(s: S3Settings, key: string): URL {
  const url = new URL(s.endpoint.href);
  const base = url.pathname.replace(/\/+$/, '');
  if (s.forcePathStyle) url.pathname = `${base}/${encodeURIComponent(s.bucket)}/${encodeKey(key)}`;
  else {
    url.hostname = `${s.bucket}.${url.hostname}`;
    url.pathname = `${base}/${encodeKey(key)}`;
  }
  return url;
}

/** SigV4 headers of a request to `url` with `body` (aws4 adds Authorization, X-Amz-Date, X-Amz-Content-Sha256). */
export function signedHeaders(
  s: S3Settings,
  method: string,
  url: URL,
  headers: Record<string, string>,
  body: Buffer | undefined,
): Record<string, string> {
  const req = {
    host: url.host,
    path: `${url.pathname}${url.search}`,
    method,
    service: 's3',
    region: s.region,
    headers: { ...headers, Host: url.host },
    ...(body !== undefined ? { body } : {}),
  };
  aws4.sign(req, s.credentials);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() !== 'host') out[k] = String(v);
  return out;
}

/** S3's XML error as `Code: Message`, else the body. */
function s3Reason(text: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  return code !== undefined ? `${code}${message ? `: ${message}` : ''}` : text;
}

class S3Output implements Output {
  readonly type = 's3';
  private readonly transport: HttpTransport;
  private readonly peer: string;

  constructor(
    readonly name: string,
    private readonly s: S3Settings,
    transport: (peer: string) => HttpTransport,
  ) {
    this.peer = `s3 output ${JSON.stringify(name)} (${s.endpoint.origin}, bucket ${s.bucket})`;
    this.transport = transport(this.peer);
  }

  async send(records: readonly LogRecord[], signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw aborted(this.peer, signal);
    if (records.length === 0) return;
    const ndjson = records.map(recordJsonLine).join('');
    const body = await gzip(Buffer.from(ndjson, 'utf8'));
    const url = objectUrl(this.s, objectKey(this.s.prefix, records[0]!, ndjson));
    const headers = signedHeaders(this.s, 'PUT', url, { 'Content-Type': 'application/gzip' }, body);
    const res = await this.transport.request('PUT', url, headers, body, signal);
    if (res.status < 200 || res.status >= 300)
      throw httpStatusError(this.peer, res.status, s3Reason(bodyText(res)));
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

export const s3Output: OutputFactory = (name: string, o: Options, ctx: OutputContext) => {
  const bucket = o.string('bucket');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw o.error('bucket', `${JSON.stringify(bucket)} is not a valid bucket name`);
  const region = o.string('region', 'us-east-1');
  // An absent key needs no reading: done() only checks the keys present.
  const endpoint = o.has('endpoint') ? readUrl(o, 'endpoint') : new URL(`https://s3.${region}.amazonaws.com`);
  const forcePathStyle = o.boolean('forcePathStyle', false);
  const accessKeyId = o.optionalString('accessKeyId') ?? process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = o.optionalString('secretAccessKey') ?? process.env.AWS_SECRET_ACCESS_KEY;
  const sessionToken = o.optionalString('sessionToken') ?? process.env.AWS_SESSION_TOKEN;
  if (accessKeyId === undefined || accessKeyId === '')
    throw o.error('accessKeyId', 'is required (or AWS_ACCESS_KEY_ID)');
  if (secretAccessKey === undefined || secretAccessKey === '') {
    throw o.error('secretAccessKey', 'is required (or AWS_SECRET_ACCESS_KEY)');
  }
  const prefix = o.string('prefix', '');
  const tls = readTls(o, ctx);
  const timeoutMs = readDurationMs(o, 'timeout', DEFAULT_TIMEOUT_MS);
  o.done();
  const credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  const settings: S3Settings = { bucket, region, endpoint, forcePathStyle, credentials, prefix };
  return new S3Output(name, settings, (peer) => new HttpTransport(peer, tls, timeoutMs));
};
