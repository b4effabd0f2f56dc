/**
 * @module The kjournal server: one HTTP port for every API, the store, and the background work
 * that belongs to the server (retention). `startServer` is what `kjournal serve` runs and what
 * tests start in-process.
 */

import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { admitted } from '../api/http/admit.js';
import { bodyMediaType, checkBodyType, FORM_TYPE, readBody } from '../api/http/body.js';
import { HttpError } from '../api/http/errors.js';
import { ERROR_ID_HEADER } from '../api/http/internal-error.js';
import {
  type ErrorHandler,
  type Handler,
  type RequestContext,
  Router,
  send,
  text,
  trimTrailingSlash,
} from '../api/http/router.js';
import { auditIngestHandler, eventsIngestHandler } from '../api/ingest/kube-objects.js';
import { korrel8rErrorReply, korrel8rLogsHandler } from '../api/korrel8r/logs.js';
import { type KubeApiOptions, registerKubeApi } from '../api/kube/index.js';
import {
  GROUP_KORREL8R_PATH,
  GROUP_LOKI_PATH,
  GROUP_PATH,
  NAMESPACED_LOKI_PATH,
  namespacedHandler,
  tailRestriction,
} from '../api/loki/aggregated.js';
import { deleteHandler } from '../api/loki/delete.js';
import { detectedFieldsHandler } from '../api/loki/detected-fields.js';
import { detectedLabelsHandler } from '../api/loki/detected-labels.js';
import { drilldownLimitsHandler } from '../api/loki/drilldown-limits.js';
import { lokiErrorReply } from '../api/loki/errors.js';
import { formatQueryHandler, keepOriginalQuery } from '../api/loki/format-query.js';
import { LOKISTACK_CLASSES, lokiStackPath, restrictHandler } from '../api/loki/lokistack.js';
import {
  buildInfoHandler,
  indexStatsHandler,
  indexVolumeHandler,
  indexVolumeRangeHandler,
  labelsHandler,
  labelValuesHandler,
  seriesHandler,
} from '../api/loki/metadata.js';
import { patternsHandler } from '../api/loki/patterns.js';
import { pushHandler } from '../api/loki/push.js';
import { queryHandler, queryRangeHandler } from '../api/loki/query.js';
import { authorizeLogRead, logRead } from '../api/loki/read-access.js';
import { retentionTestHandler } from '../api/loki/retention-test.js';
import { TailServer } from '../api/loki/tail.js';
import { DEFAULT_TENANT } from '../api/loki/tenant.js';
import { type AuditPolicy, applyPolicyToRecords, DEFAULT_AUDIT_POLICY } from '../audit/policy/index.js';
import type { Access, Auth } from '../auth/index.js';
import { DEFAULT_PUSH_LIMITS, type PushLimits } from '../ingest/loki-push/index.js';
import { DEFAULT_DELETE_CANCEL_PERIOD, DeleteRequests } from '../lifecycle/delete-requests.js';
import { compilePipeline } from '../logql/pipeline/index.js';
import type { LogRecord } from '../model/record.js';
import { nowNs } from '../model/time.js';
import { journalOutput } from '../outputs/journal.js';
import type { PipelineConfig } from '../pipeline/config.js';
import { Pipeline } from '../pipeline/runtime.js';
import {
  DEFAULT_MAX_QUEUED_QUERIES,
  defaultMaxConcurrentQueries,
  QueryAdmission,
} from '../query/admission.js';
import { DEFAULT_LIMITS, type MetricLimits } from '../query/metric/index.js';
import { createStore, type StoreBackendConfig } from '../store/open.js';
import type { RetentionPolicy, RetentionRule, Store } from '../store/store.js';
import { acquireDirLock } from '../util/dir-lock.js';
import {
  DEFAULT_MIN_FREE,
  DiskSpaceWatch,
  type DiskWatermark,
  describeWatermark,
  formatBytes,
} from '../util/disk-space.js';
import { sizeOrZero } from '../util/size.js';
import { gateRequest } from './auth-gate.js';
import { DiskFullError, guardWrites, registerDiskMetrics } from './disk-guard.js';
import { type IngestDeps, routeRecords, storeRecords } from './ingest.js';
import { ServerMetrics } from './metrics.js';
import { TailHub } from './tail-hub.js';
import { serveWithoutUpgrade, wantsWebSocket } from './upgrade.js';

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Keep data this long (nanoseconds); undefined keeps it forever. */
  readonly retention?: bigint;
  /** Loki's `retention_stream`: streams their selectors select keep their own period. */
  readonly retentionStreams?: readonly RetentionRule[];
  /**
   * How long a delete request can be cancelled before its entries are removed from disk (ns;
   * Loki's `delete_request_cancel_period`, 24h by default). Its entries leave reads at once.
   */
  readonly deleteRequestCancelPeriod?: bigint;
  readonly limits: PushLimits;
  readonly maxBodyBytes: number;
  /** Entries (and streams) one push may hold; the decoder's default (100,000) when absent. */
  readonly maxPushEntries?: number;
  /** Time to receive a whole request, headers and body (DEFAULT_REQUEST_TIMEOUT_MS when absent). */
  readonly requestTimeoutMs?: number;
  readonly maxEntriesLimit: number;
  /** Loki's query_timeout: a query still running after this is cancelled (504). */
  readonly queryTimeoutMs: number;
  /** Series, points, query length and range limits of metric queries. */
  readonly metricLimits: MetricLimits;
  /** Memory one query may use in the store (e.g. `192MB`; see StoreConfig.queryMemoryLimit). */
  readonly queryMemoryLimit: string;
  /** Queries that run at once, and that one tenant may have waiting (src/query/admission.ts). */
  readonly maxConcurrentQueries?: number;
  readonly maxQueuedQueries?: number;
  /** Bytes one tail or watch may hold, queued and unsent together (server/consumer-buffer.ts). */
  readonly tailBufferBytes?: number;
  /** Loki's max_concurrent_tail_requests: open tails per tenant. */
  readonly maxTailsPerTenant?: number;
  /** The `core.kjournal` API's list window, watch replay and bookmark settings (defaults if absent). */
  /** Authentication, authorization and TLS (src/auth); without it everyone may do everything. */
  readonly auth?: Auth;
  /**
   * false (`--disable-tenant-header`): `X-Scope-OrgID` is ignored and every request is the default
   * tenant, as Loki with `auth_enabled: false`. Default true.
   */
  readonly tenantHeader?: boolean;
  readonly kube?: Pick<
    KubeApiOptions,
    'listWindowNs' | 'listMaxItems' | 'watchReplayMax' | 'bookmarkIntervalMs' | 'direct'
  >;
  /**
   * Applied to what arrives at `/ingest/audit`: a policy, null for none (every event kept), or
   * absent for the built-in default (changes at Metadata).
   */
  readonly auditPolicy?: AuditPolicy | null;
  /** Flows and outputs (`--config`); output buffers live under `<dataDir>/outputs`. */
  readonly pipeline?: PipelineConfig;
  /**
   * Under this much free space on the data volume writes answer 507 (server/disk-guard.ts); default
   * DEFAULT_MIN_FREE (1GiB or 5% of the volume, whichever is smaller).
   */
  readonly minFreeDisk?: DiskWatermark;
  readonly log?: (line: string) => void;
  /**
   * The store to serve, not yet opened: the server opens and closes it. Absent: the store that
   * `storeBackend` describes (src/store/open.ts) in `dataDir`. For tests that inject faults into
   * reads (test/faults/faulty-store.ts).
   */
  readonly store?: Store;
  /** The store's backend and its own options; absent: the embedded backend. */
  readonly storeBackend?: StoreBackendConfig;
}

export const DEFAULT_SERVER_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 3100,
  dataDir: './data',
  limits: DEFAULT_PUSH_LIMITS,
  maxBodyBytes: 64 << 20,
  maxEntriesLimit: 5000,
  queryTimeoutMs: 60_000,
  metricLimits: DEFAULT_LIMITS,
  queryMemoryLimit: '192MB',
};

export interface RunningServer {
  readonly url: string;
  readonly store: Store;
  readonly http: Server;
  close(): Promise<void>;
}

const RETENTION_INTERVAL_MS = 3_600_000;
/** Loki's default http_server_read_timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const KJOURNAL_VERSION = '0.1.0';

/**
 * What a push body may be. Loki reads every type but JSON as protobuf and so never answers 415; a
 * form (curl's default), text or multipart body is never a push, and is refused at once with 415.
 * `application/protobuf` and `application/octet-stream` are read as protobuf, as Loki would.
 */
const PUSH_TYPES = [
  'application/json',
  'application/x-protobuf',
  'application/protobuf',
  'application/octet-stream',
];

/** A plain GET of the tail endpoint: Loki's tail is a WebSocket. */
const tailWithoutUpgrade: Handler = async () => {
  throw new HttpError(400, 'bad request: /loki/api/v1/tail is a WebSocket endpoint: send an Upgrade request');
};

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const log = config.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // One data directory, one process (util/dir-lock.ts), before anything in it is read or written:
  // this also refuses a second in-process server of a test.
  const lock = await acquireDirLock(config.dataDir, 'data directory');
  let store: Store;
  let disk: DiskSpaceWatch;
  try {
    disk = await watchDisk(config, log);
    store =
      config.store ??
      createStore({
        dataDir: config.dataDir,
        queryMemoryLimit: config.queryMemoryLimit,
        ...(config.storeBackend ? { backend: config.storeBackend } : {}),
        onError: (err) => log(`store: background work failed, will retry: ${(err as Error).message}`),
        log,
      });
    await store.open();
  } catch (err) {
    await lock.release();
    throw err;
  }
  const metrics = new ServerMetrics(store);
  registerDiskMetrics(metrics.registry, disk);
  let ready = true;

  const retentionPolicy: RetentionPolicy = {
    ...(config.retention === undefined ? {} : { period: config.retention }),
    rules: config.retentionStreams ?? [],
  };
  const applyRetention = async (): Promise<void> => {
    if (retentionPolicy.period === undefined && retentionPolicy.rules.length === 0) return;
    const touched = await store.applyRetention(nowNs(), retentionPolicy);
    if (touched > 0) log(`retention: removed or rewrote ${touched} day partition(s)`);
  };
  const deleteRequests = new DeleteRequests({
    dataDir: config.dataDir,
    store,
    cancelPeriod: config.deleteRequestCancelPeriod ?? DEFAULT_DELETE_CANCEL_PERIOD,
    now: nowNs,
    log,
  });
  await deleteRequests.open();
  await applyRetention();
  const retentionTimer = setInterval(() => {
    applyRetention().catch((err: unknown) => log(`retention failed: ${(err as Error).message}`));
  }, RETENTION_INTERVAL_MS);
  retentionTimer.unref();

  const router = new Router();
  const loki: ErrorHandler = (err) => lokiErrorReply(err);
  const queryOpts = {
    store,
    metrics,
    maxEntriesLimit: config.maxEntriesLimit,
    queryTimeoutMs: config.queryTimeoutMs,
    metricLimits: config.metricLimits,
  };
  const tailHub = new TailHub();
  const admission = new QueryAdmission({
    maxConcurrent:
      config.maxConcurrentQueries ??
      defaultMaxConcurrentQueries(sizeOrZero(config.queryMemoryLimit) ?? 192 << 20),
    maxQueued: config.maxQueuedQueries ?? DEFAULT_MAX_QUEUED_QUERIES,
    memoryLimit: config.queryMemoryLimit,
  });
  metrics.observe(tailHub, admission);
  /** A read handler that runs a store query: it waits for admission first. */
  const query = (handler: Handler): Handler => admitted(admission, config.queryTimeoutMs, handler);
  let pipeline: Pipeline | undefined;
  // Completed with the pipeline once it runs; its `journal` output is only called after that.
  let deps: IngestDeps = { store, tailHub, metrics };
  if (config.pipeline) {
    pipeline = await Pipeline.start({
      config: config.pipeline,
      // The server stores what flows route to `journal` itself (process() returns it); this
      // output only serves a flow whose records are sent explicitly.
      journal: journalOutput(
        async (records) => void (await storeRecords(deps, DEFAULT_TENANT, [...records])),
      ),
      stateDir: join(config.dataDir, 'outputs'),
      registry: metrics.registry,
      log,
    });
    deps = { ...deps, pipeline };
  }
  const auditPolicy = config.auditPolicy === undefined ? DEFAULT_AUDIT_POLICY : config.auditPolicy;
  const kubeIngest = (policy: AuditPolicy | null) => (tenant: string, records: LogRecord[]) =>
    storeRecords(deps, tenant, routeRecords(deps, applyPolicyToRecords(policy, records)));
  const tail = new TailServer({
    store,
    hub: tailHub,
    maxEntriesLimit: config.maxEntriesLimit,
    log,
    compilePipeline,
    admission,
    queryTimeoutMs: config.queryTimeoutMs,
    ...(config.tailBufferBytes ? { bufferBytes: config.tailBufferBytes } : {}),
    ...(config.maxTailsPerTenant !== undefined ? { maxTailsPerTenant: config.maxTailsPerTenant } : {}),
    events: {
      dropped: (n) => metrics.consumerDropped.inc({ api: 'loki' }, n),
      disconnected: () => metrics.consumersTooSlow.inc({ api: 'loki' }),
    },
  });
  const GET_POST = ['GET', 'POST'];
  // The read endpoints of Loki's API, served at /loki/api/v1/..., restricted to one class at
  // LokiStack's /api/logs/v1/<class>/loki/api/v1/..., and under the group's path for API
  // aggregation (api/loki/aggregated.ts), restricted to one namespace on its namespaced path.
  const lokiReads: [readonly string[], string, Handler][] = [
    [GET_POST, '/query_range', query(queryRangeHandler(queryOpts))],
    [GET_POST, '/query', query(queryHandler(queryOpts))],
    [GET_POST, '/labels', query(labelsHandler({ store }))],
    [GET_POST, '/label', query(labelsHandler({ store }))],
    [GET_POST, '/label/{name}/values', query(labelValuesHandler({ store }))],
    [GET_POST, '/series', query(seriesHandler({ store }))],
    [GET_POST, '/index/stats', query(indexStatsHandler({ store }))],
    [GET_POST, '/index/volume', query(indexVolumeHandler({ store }))],
    [GET_POST, '/index/volume_range', query(indexVolumeRangeHandler({ store }))],
    [GET_POST, '/detected_fields', query(detectedFieldsHandler({ store }))],
    // Grafana's Logs Drilldown; the last two run no store query, so they are not queued.
    [GET_POST, '/patterns', query(patternsHandler({ store }))],
    [GET_POST, '/detected_labels', query(detectedLabelsHandler({ store }))],
    [
      ['GET'],
      '/drilldown-limits',
      drilldownLimitsHandler({
        ...queryOpts,
        retention: config.retention,
        retentionStreams: config.retentionStreams,
      }),
    ],
    [GET_POST, '/format_query', formatQueryHandler()],
    [['GET'], '/status/buildinfo', buildInfoHandler(KJOURNAL_VERSION)],
    [['GET'], '/tail', tailWithoutUpgrade],
  ];
  // Loki's read endpoints take their parameters in the URL or in a POSTed form (Go's ParseForm).
  const readBodies = { form: true, bodyTypes: [FORM_TYPE] };
  for (const [methods, path, unchecked] of lokiReads) {
    // Each read is authorized before it is queued (api/loki/read-access.ts); buildinfo is a
    // non-resource path, decided by the gate.
    const handler = path === '/status/buildinfo' ? unchecked : logRead(unchecked);
    // format_query prints the query as sent, not as restricted on its way (api/loki/format-query.ts).
    const sent = path === '/format_query' ? keepOriginalQuery : (h: Handler) => h;
    router.add(methods, `/loki/api/v1${path}`, sent(handler), loki, readBodies);
    router.add(methods, `${GROUP_LOKI_PATH}${path}`, sent(handler), loki, readBodies);
    router.add(methods, `${NAMESPACED_LOKI_PATH}${path}`, sent(namespacedHandler(handler)), loki, readBodies);
    for (const cls of LOKISTACK_CLASSES) {
      const restricted = sent(restrictHandler(handler, cls));
      router.add(methods, lokiStackPath(cls, `/loki/api/v1${path}`), restricted, loki, readBodies);
    }
  }
  // Writes pause while the data volume is (nearly) full; reads go on.
  const guarded = (h: Handler): Handler =>
    guardWrites(h, disk, () => metrics.rejectedRequests.inc({ reason: '507' }));
  const push = guarded(
    pushHandler({
      ...deps,
      limits: config.limits,
      maxBodyBytes: config.maxBodyBytes,
      ...(config.maxPushEntries === undefined ? {} : { maxEntries: config.maxPushEntries }),
    }),
  );
  const pushBodies = { bodyTypes: PUSH_TYPES };
  for (const cls of LOKISTACK_CLASSES) {
    router.add(
      ['POST'],
      lokiStackPath(cls, '/loki/api/v1/push'),
      restrictHandler(push, cls),
      loki,
      pushBodies,
    );
  }
  const korrel8rLogs = logRead(
    query(
      korrel8rLogsHandler({
        store,
        maxEntriesLimit: config.maxEntriesLimit,
        compilePipeline,
        queryTimeoutMs: config.queryTimeoutMs,
      }),
    ),
  );
  // The ingest endpoints check times with the push API's limits (ingest/validate-time.ts).
  const kubeIngestLimits = {
    maxBodyBytes: config.maxBodyBytes,
    limits: config.limits,
    onRefused: (reason: string, n: number) => metrics.discardedLines.inc({ reason }, n),
  };
  const deletes = deleteHandler({ requests: deleteRequests, store });
  const retentionBodies = {
    bodyTypes: ['application/json', 'application/yaml', 'application/x-yaml', 'text/plain'],
  };
  const retentionTest = retentionTestHandler({ store, policy: retentionPolicy });
  router
    .add(['GET', 'POST', 'DELETE'], '/loki/api/v1/delete', deletes, loki, readBodies)
    .add(['GET', 'POST', 'DELETE'], `${GROUP_LOKI_PATH}/delete`, deletes, loki, readBodies)
    .add(['GET', 'POST'], '/api/v1/retention/test', retentionTest, loki, retentionBodies)
    .add(['GET', 'POST'], `${GROUP_PATH}/retention/test`, retentionTest, loki, retentionBodies)
    .add(['POST'], '/loki/api/v1/push', push, loki, pushBodies)
    .add(['POST'], `${GROUP_LOKI_PATH}/push`, push, loki, pushBodies)
    .add(
      ['POST'],
      '/ingest/audit',
      guarded(auditIngestHandler({ ingest: kubeIngest(auditPolicy), ...kubeIngestLimits })),
      loki,
    )
    .add(
      ['POST'],
      '/ingest/events',
      guarded(eventsIngestHandler({ ingest: kubeIngest(null), ...kubeIngestLimits })),
      loki,
    )
    .add(['GET'], '/api/v1/korrel8r/logs', korrel8rLogs, korrel8rErrorReply)
    .add(['GET'], GROUP_KORREL8R_PATH, korrel8rLogs, korrel8rErrorReply)
    .add(['GET'], '/ready', async () => (ready ? text(200, 'ready\n') : text(503, 'shutting down\n')), loki)
    .add(
      ['GET'],
      '/metrics',
      async () => ({
        status: 200,
        headers: { 'content-type': metrics.registry.contentType },
        body: await metrics.registry.metrics(),
      }),
      loki,
    );

  const kubeApi = registerKubeApi(router, {
    store,
    tailHub,
    version: KJOURNAL_VERSION,
    maxEntriesLimit: config.maxEntriesLimit,
    queryTimeoutMs: config.queryTimeoutMs,
    ready: () => ready,
    admission,
    ...(config.tailBufferBytes ? { watchBufferBytes: config.tailBufferBytes } : {}),
    onWatchTooSlow: () => metrics.consumersTooSlow.inc({ api: 'kube' }),
    ...config.kube,
  });

  const auth = config.auth;
  const gateOptions = { ...(auth ? { auth } : {}), tenantHeader: config.tenantHeader ?? true, log };
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl(req);
    if (!url) {
      send(res, text(400, `invalid request target ${JSON.stringify(req.url)}\n`));
      req.resume();
      return;
    }
    const gate = await gateRequest(req, url, gateOptions);
    if (gate.refused) send(res, gate.refused);
    else await handle(router, req, res, url, gate.access, log);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    answer(req, res).catch((err: unknown) => {
      // The last line of defence: no request may take the process down.
      log(`error answering ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) send(res, text(500, 'internal error\n'));
      else res.destroy();
    });
  };
  // Loki's (dskit's) http_server_read_timeout: the whole request, headers and body, must arrive
  // within it, or Node answers 408 and closes; a client that sends its body slowly, or never, holds
  // no socket past it. Checked every tenth of it (Node's default interval is 30 s).
  const readTimeout = config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const options = {
    keepAliveTimeout: 65_000,
    requestTimeout: readTimeout,
    headersTimeout: readTimeout,
    connectionsCheckingInterval: Math.min(5_000, Math.max(100, readTimeout / 10)),
  };
  const http: Server = auth?.tls
    ? createHttpsServer({ ...auth.tls, ...options }, onRequest)
    : createServer(options, onRequest);
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Only a WebSocket is taken; any other Upgrade (curl --http2's h2c) is ignored, as RFC 9110 allows.
    if (!wantsWebSocket(req)) {
      serveWithoutUpgrade(http, req, socket, head, auth?.tls !== undefined);
      return;
    }
    socket.on('error', () => socket.destroy());
    const url = requestUrl(req);
    if (!url) {
      tail.rejectNotFound(socket);
      return;
    }
    gateRequest(req, url, gateOptions).then(
      ({ refused, access }) => {
        if (refused) {
          const body = typeof refused.body === 'string' ? refused.body : '';
          socket.end(
            `HTTP/1.1 ${refused.status} ${STATUS_CODES[refused.status] ?? 'Error'}\r\n` +
              `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
              `Connection: close\r\n\r\n${body}`,
          );
        } else upgrade(req, socket, head, url, access);
      },
      (err: unknown) => {
        log(`error authorizing ${req.url}: ${(err as Error).message}`);
        socket.destroy();
      },
    );
  });
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, access: Access): void => {
    const tailPath = tailRestriction(trimTrailingSlash(url.pathname));
    if (!tailPath) {
      tail.rejectNotFound(socket);
      return;
    }
    // The tail is a read like the others (api/loki/read-access.ts), decided before it is opened.
    authorizeLogRead(access, {
      verb: 'watch',
      params: url.searchParams,
      ...(tailPath.cls === undefined ? {} : { classRestriction: tailPath.cls }),
      ...(tailPath.restriction === undefined ? {} : { restriction: tailPath.restriction }),
    }).then(
      (confine) => {
        const restriction = [...(tailPath.restriction ?? []), ...confine];
        tail.upgrade(req, socket, head, url, restriction.length > 0 ? restriction : undefined);
      },
      (err: unknown) => tail.reject(socket, err),
    );
  };
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    clearInterval(retentionTimer);
    disk.stop();
    await deleteRequests.close();
    await pipeline?.close();
    await store.close();
    await lock.release();
    throw err;
  }
  const addr = http.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  let closing: Promise<void> | undefined;
  return {
    url: `${auth?.tls ? 'https' : 'http'}://${host}:${addr.port}`,
    store,
    http,
    close() {
      closing ??= (async () => {
        ready = false;
        clearInterval(retentionTimer);
        tail.close();
        kubeApi.close();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeIdleConnections();
        });
        await deleteRequests.close();
        await pipeline?.close();
        await store.close();
        disk.stop();
        await lock.release();
      })();
      return closing;
    },
  };
}

/** Samples free space on the data volume; logs when writes pause and resume. */
async function watchDisk(config: ServerConfig, log: (line: string) => void): Promise<DiskSpaceWatch> {
  const minFree = config.minFreeDisk ?? DEFAULT_MIN_FREE;
  const disk = new DiskSpaceWatch({
    dir: config.dataDir,
    minFree,
    onChange: (low, d) =>
      log(
        !low
          ? `disk: ${formatBytes(d.free)} free on the data volume again: writes resume`
          : d.metNoSpace
            ? 'disk: a write met ENOSPC on the data volume: writes answer 507 until space is freed'
            : `disk: ${formatBytes(d.free)} free on the data volume, under --min-free-disk ` +
              `(${describeWatermark(minFree)}: ${formatBytes(d.threshold)}): writes answer 507 until space is freed`,
      ),
    onError: (err) => log(`disk: cannot read free space: ${(err as Error).message}`),
  });
  await disk.start();
  return disk;
}

/** The request's URL, or undefined when its target does not parse. */
function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

async function handle(
  router: Router,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  access: Access,
  log: (line: string) => void,
): Promise<void> {
  const matched = router.matchPath(url.pathname);
  const route = matched?.route;
  const ctx: RequestContext = {
    req,
    url,
    params: url.searchParams,
    pathParams: matched?.pathParams ?? {},
    access,
  };
  if (!route) {
    send(res, router.notFoundReply(url.pathname) ?? text(404, '404 page not found\n'));
    req.resume();
    return;
  }
  try {
    if (!route.methods.includes(req.method ?? 'GET')) {
      throw new HttpError(405, `method ${req.method} not allowed; use ${route.methods.join(' or ')}`);
    }
    checkBodyType(req, url.pathname, route.bodyTypes);
    // Only routes that take a form read one: the push handler waited for a body already read here.
    if (route.form && req.method === 'POST' && bodyMediaType(req) === FORM_TYPE) {
      const form = new URLSearchParams((await readBody(req, 1 << 20)).toString('utf8'));
      for (const [k, v] of url.searchParams) if (!form.has(k)) form.append(k, v);
      ctx.params = form;
    }
    const reply = await route.handler(ctx);
    // Fail closed: an answer no authorization decision covered is a bug of the route, never data.
    if (!access.decided && reply.status < 400) {
      log(`error on ${req.method} ${url.pathname}: answered without an authorization decision`);
      send(res, text(500, 'internal error: the request was not authorized\n'));
      return;
    }
    send(res, reply);
  } catch (err) {
    const reply = route.onError(err, ctx);
    // A full disk is no fault of the server's: the guard logs when writes pause and resume. An
    // internal error was logged with its id where it became the reply (api/http/internal-error.ts).
    if (reply.status >= 500 && !(err instanceof DiskFullError) && !reply.headers?.[ERROR_ID_HEADER])
      process.stderr.write(`error on ${req.method} ${url.pathname}: ${(err as Error).stack ?? err}\n`);
    send(res, reply);
  }
}
