/**
 * @module The kjournal server: one HTTP port for every API, the store, and the background work
 * that belongs to the server (retention). `startServer` is what `kjournal serve` runs and what
 * tests start in-process.
 */

import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { esErrorReply } from '../api/elasticsearch/errors.js';
import { rootHandler } from '../api/elasticsearch/probes.js';
import { requestListener, upgradeListener } from '../api/http/dispatch.js';
import { type ErrorHandler, Router, text } from '../api/http/router.js';
import { DEFAULT_TENANT } from '../api/http/tenant.js';
import { registerIngestApi } from '../api/ingest/routes.js';
import { registerKorrel8rApi } from '../api/korrel8r/routes.js';
import { type KubeApiOptions, registerKubeApi } from '../api/kube/index.js';
import { lokiErrorReply } from '../api/loki/errors.js';
import { registerLokiApi } from '../api/loki/routes.js';
import { TailServer } from '../api/loki/tail.js';
import { tailUpgrade } from '../api/loki/tail-upgrade.js';
import { registerUi } from '../api/ui/static.js';
import { type AuditPolicy, DEFAULT_AUDIT_POLICY } from '../audit/policy/index.js';
import type { Auth } from '../auth/index.js';
import { acquireDirLock } from '../disk/dir-lock.js';
import {
  DEFAULT_MIN_FREE,
  DiskSpaceWatch,
  type DiskWatermark,
  describeWatermark,
  formatBytes,
} from '../disk/disk-space.js';
import {
  DEFAULT_MAX_PUSH_ENTRIES,
  DEFAULT_PUSH_LIMITS,
  type PushLimits,
} from '../formats/loki-push/index.js';
import { Journal } from '../journal/journal.js';
import { getLogObjects } from '../korrel8r/get.js';
import { kubeReadsOn } from '../kube/reads.js';
import { DEFAULT_DELETE_CANCEL_PERIOD, DeleteRequests } from '../lifecycle/delete-requests.js';
import { nowNs } from '../model/time.js';
import type { PipelineConfig } from '../pipeline/config.js';
import { journalOutput } from '../pipeline/outputs/journal.js';
import { Pipeline } from '../pipeline/runtime.js';
import {
  DEFAULT_MAX_QUEUED_QUERIES,
  defaultMaxConcurrentQueries,
  QueryAdmission,
} from '../query/admission.js';
import { DEFAULT_LIMITS, type MetricLimits } from '../query/metric/index.js';
import { queriesOn } from '../query/queries.js';
import { createStore, type StoreBackendConfig } from '../store/open.js';
import type { RetentionPolicy, RetentionRule, Store } from '../store/store.js';
import { type LineLog, Logger, lineLogger } from '../util/log.js';
import { sizeOrZero } from '../util/size.js';
import { ownVersion } from '../util/version.js';
import { registerDiskMetrics } from './disk-metrics.js';
import { ServerMetrics } from './metrics.js';
import {
  type ReceiverAddresses,
  type ReceiversConfig,
  type RunningReceivers,
  registerReceiverRoutes,
  startReceivers,
} from './receivers.js';

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
  /** Bytes one tail or watch may hold, queued and unsent together (api/http/consumer-buffer.ts). */
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
   * Under this much free space on the data volume writes answer 507 (journal/disk-full.ts); default
   * DEFAULT_MIN_FREE (1GiB or 5% of the volume, whichever is smaller).
   */
  readonly minFreeDisk?: DiskWatermark;
  /**
   * The server's log (`--log-level`, `--log-format`: util/log.ts). Absent: `log` gets each event's
   * text (tests), else text at info on stderr.
   */
  readonly logger?: Logger;
  readonly log?: (line: string) => void;
  /**
   * The store to serve, not yet opened: the server opens and closes it. Absent: the store that
   * `storeBackend` describes (src/store/open.ts) in `dataDir`. For tests that inject faults into
   * reads (test/faults/faulty-store.ts).
   */
  readonly store?: Store;
  /** The store's backend and its own options; absent: the embedded backend. */
  readonly storeBackend?: StoreBackendConfig;
  /** false (`--ui=false`): no web page at `/` and `/ui/`; default true. */
  readonly ui?: boolean;
  /** Where the built web page is (tests); default dist/web (api/ui/static.ts). */
  readonly uiDir?: string;
  /** The forward, syslog and GELF listeners (issue 17); absent: none. */
  readonly receivers?: ReceiversConfig;
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
  /** Where the forward, syslog and GELF listeners listen (those configured). */
  readonly receivers: ReceiverAddresses;
  close(): Promise<void>;
}

const RETENTION_INTERVAL_MS = 3_600_000;
/** Loki's default http_server_read_timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const KJOURNAL_VERSION = ownVersion();

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const logger = config.logger ?? (config.log ? lineLogger(config.log) : new Logger());
  // What the layers below log is a warning unless they say otherwise (util/log.ts LineLog).
  const log: LineLog = logger.line('warn');
  // One data directory, one process (disk/dir-lock.ts), before anything in it is read or written:
  // this also refuses a second in-process server of a test.
  const lock = await acquireDirLock(config.dataDir, 'data directory');
  let store: Store;
  let disk: DiskSpaceWatch;
  try {
    disk = await watchDisk(config, logger);
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
    if (touched > 0) logger.info(`retention: removed or rewrote ${touched} day partition(s)`);
  };
  const deleteRequests = new DeleteRequests({
    dataDir: config.dataDir,
    store,
    cancelPeriod: config.deleteRequestCancelPeriod ?? DEFAULT_DELETE_CANCEL_PERIOD,
    now: nowNs,
    log: logger.line('info'),
  });
  await deleteRequests.open();
  await applyRetention();
  const retentionTimer = setInterval(() => {
    applyRetention().catch((err: unknown) => logger.error(`retention failed: ${(err as Error).message}`));
  }, RETENTION_INTERVAL_MS);
  retentionTimer.unref();

  const router = new Router();
  const queries = queriesOn(store);
  const admission = new QueryAdmission({
    maxConcurrent:
      config.maxConcurrentQueries ??
      defaultMaxConcurrentQueries(sizeOrZero(config.queryMemoryLimit) ?? 192 << 20),
    maxQueued: config.maxQueuedQueries ?? DEFAULT_MAX_QUEUED_QUERIES,
    memoryLimit: config.queryMemoryLimit,
  });
  let pipeline: Pipeline | undefined;
  // Completed with the flows once they run; their `journal` output is only called after that.
  let journal = new Journal({ store, metrics, disk });
  const tailHub = journal.tails;
  metrics.observe(tailHub, admission);
  if (config.pipeline) {
    pipeline = await Pipeline.start({
      config: config.pipeline,
      // The server stores what flows route to `journal` itself (process() returns it); this
      // output only serves a flow whose records are sent explicitly.
      journal: journalOutput(async (records) => void (await journal.append(DEFAULT_TENANT, [...records]))),
      stateDir: join(config.dataDir, 'outputs'),
      registry: metrics.registry,
      log,
    });
    journal = journal.withFlows(pipeline);
  }
  const auditPolicy = config.auditPolicy === undefined ? DEFAULT_AUDIT_POLICY : config.auditPolicy;
  const tail = new TailServer({
    queries,
    hub: tailHub,
    maxEntriesLimit: config.maxEntriesLimit,
    log,
    admission,
    queryTimeoutMs: config.queryTimeoutMs,
    ...(config.tailBufferBytes ? { bufferBytes: config.tailBufferBytes } : {}),
    ...(config.maxTailsPerTenant !== undefined ? { maxTailsPerTenant: config.maxTailsPerTenant } : {}),
    events: {
      dropped: (n) => metrics.consumerDropped.inc({ api: 'loki' }, n),
      disconnected: () => metrics.consumersTooSlow.inc({ api: 'loki' }),
    },
  });
  registerLokiApi(router, {
    queries,
    journal,
    metrics,
    admission,
    deleteRequests,
    retentionPolicy,
    version: KJOURNAL_VERSION,
    maxEntriesLimit: config.maxEntriesLimit,
    queryTimeoutMs: config.queryTimeoutMs,
    metricLimits: config.metricLimits,
    retention: config.retention,
    retentionStreams: config.retentionStreams,
    limits: config.limits,
    maxBodyBytes: config.maxBodyBytes,
    ...(config.maxPushEntries === undefined ? {} : { maxPushEntries: config.maxPushEntries }),
  });
  registerIngestApi(router, {
    journal,
    auditPolicy,
    maxBodyBytes: config.maxBodyBytes,
    limits: config.limits,
    onRefused: (reason, n) => metrics.discardedLines.inc({ reason }, n),
    onWriteRefused: () => metrics.rejectedRequests.inc({ reason: '507' }),
  });
  const { intake, decodePool } = registerReceiverRoutes(router, {
    journal,
    registry: metrics.registry,
    limits: config.limits,
    maxBodyBytes: config.maxBodyBytes,
    maxEvents: config.maxPushEntries ?? DEFAULT_MAX_PUSH_ENTRIES,
    version: KJOURNAL_VERSION,
    ...(config.receivers?.decodeWorkers !== undefined
      ? { decodeWorkers: config.receivers.decodeWorkers }
      : {}),
    log,
  });
  registerKorrel8rApi(router, {
    getLogs: (q, o) => getLogObjects(store, q, o),
    admission,
    maxEntriesLimit: config.maxEntriesLimit,
    queryTimeoutMs: config.queryTimeoutMs,
  });
  const loki: ErrorHandler = (err) => lokiErrorReply(err);
  router
    .add(
      ['GET'],
      '/ready',
      async () => {
        if (!ready) return text(503, 'shutting down\n');
        const down = store.unavailable?.();
        return down === undefined ? text(200, 'ready\n') : text(503, `store unavailable: ${down}\n`);
      },
      loki,
    )
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

  if (config.ui !== false)
    registerUi(router, {
      ...(config.uiDir ? { dir: config.uiDir } : {}),
      onError: loki,
      // `GET /` without Accept: text/html is the Elasticsearch API's root (shippers' probe).
      root: { handler: rootHandler(KJOURNAL_VERSION), onError: esErrorReply },
    });

  const kubeApi = registerKubeApi(router, {
    reads: kubeReadsOn(store),
    tailHub,
    version: KJOURNAL_VERSION,
    maxEntriesLimit: config.maxEntriesLimit,
    queryTimeoutMs: config.queryTimeoutMs,
    ready: () => ready && store.unavailable?.() === undefined,
    admission,
    ...(config.tailBufferBytes ? { watchBufferBytes: config.tailBufferBytes } : {}),
    onWatchTooSlow: () => metrics.consumersTooSlow.inc({ api: 'kube' }),
    ...config.kube,
  });

  const auth = config.auth;
  const gateOptions = { ...(auth ? { auth } : {}), tenantHeader: config.tenantHeader ?? true, log };
  const dispatch = {
    router,
    gate: gateOptions,
    logger,
    observe: (route: string, method: string, code: number, seconds: number) =>
      metrics.observeRequest(route, method, code, seconds),
  };
  const onRequest = requestListener(dispatch);
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
  http.on(
    'upgrade',
    upgradeListener(http, auth?.tls !== undefined, { ...dispatch, target: tailUpgrade(tail) }),
  );
  let receivers: RunningReceivers | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => resolve());
    });
    receivers = await startReceivers({
      config: config.receivers ?? {},
      intake,
      registry: metrics.registry,
      ...(auth ? { auth } : {}),
      maxBodyBytes: config.maxBodyBytes,
      log,
    });
  } catch (err) {
    http.close();
    await decodePool.close();
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
    receivers: receivers.addresses,
    close() {
      closing ??= (async () => {
        ready = false;
        await receivers?.close();
        clearInterval(retentionTimer);
        tail.close();
        kubeApi.close();
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeIdleConnections();
        });
        // After the requests: one decoding in a worker as the server stops still gets its answer.
        await decodePool.close();
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
async function watchDisk(config: ServerConfig, logger: Logger): Promise<DiskSpaceWatch> {
  const minFree = config.minFreeDisk ?? DEFAULT_MIN_FREE;
  const disk = new DiskSpaceWatch({
    dir: config.dataDir,
    minFree,
    onChange: (low, d) =>
      logger.log(
        low ? 'warn' : 'info',
        !low
          ? `disk: ${formatBytes(d.free)} free on the data volume again: writes resume`
          : d.metNoSpace
            ? 'disk: a write met ENOSPC on the data volume: writes answer 507 until space is freed'
            : `disk: ${formatBytes(d.free)} free on the data volume, under --min-free-disk ` +
              `(${describeWatermark(minFree)}: ${formatBytes(d.threshold)}): writes answer 507 until space is freed`,
      ),
    onError: (err) => logger.error(`disk: cannot read free space: ${(err as Error).message}`),
  });
  await disk.start();
  return disk;
}
