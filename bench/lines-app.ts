/**
 * @module Application lines: HTTP requests as services and proxies log them (JSON in the zap, pino,
 * logrus and structlog styles; nginx, Envoy and HAProxy access lines), business events, cache and
 * database chatter, warnings and errors.
 */
import type { Clock } from './clock.js';
import { BROWSER_AGENTS, type Pools, pickSku, pickUser, SERVICE_AGENTS, type User, WORDS } from './pools.js';
import type { Rng } from './rng.js';
import type { Stream } from './topology.js';

export interface Ctx {
  readonly rng: Rng;
  readonly pools: Pools;
  readonly clock: Clock;
}

interface Req {
  method: string;
  path: string;
  status: number;
  bytes: number;
  latencyMs: number;
  user: User;
  ip: string;
  ua: string;
  traceId: string;
}

const STATUS_ERR = [400, 400, 401, 403, 404, 404, 404, 409, 422, 429, 500, 502, 503, 504];

function pathFor(ctx: Ctx, app: string, user: User): [string, string] {
  const { rng, pools } = ctx;
  const id = (): number => rng.range(1_000_000, 99_999_999);
  const r = rng.float();
  if (r < 0.08) return ['GET', rng.pick(['/healthz', '/readyz', '/metrics', '/livez'])];
  switch (app) {
    case 'checkout':
      return r < 0.5 ? ['POST', `/api/v1/checkout/${id()}/confirm`] : ['GET', `/api/v1/checkout/${id()}`];
    case 'cart':
      return r < 0.4 ? ['POST', `/api/v1/cart/${user.id}/items`] : ['GET', `/api/v1/cart/${user.id}`];
    case 'catalog':
      return r < 0.7
        ? ['GET', `/api/v1/products/${pickSku(rng, pools)}`]
        : ['GET', `/api/v1/categories/${rng.pick(WORDS)}?page=${rng.range(1, 20)}`];
    case 'search':
      return ['GET', `/api/v1/search?q=${rng.pick(WORDS)}+${rng.pick(WORDS)}&page=${rng.range(1, 5)}`];
    case 'recommendation':
      return ['GET', `/api/v1/recommendations/${user.id}?limit=${rng.pick([6, 12, 24])}`];
    case 'inventory':
      return r < 0.6 ? ['GET', `/api/v1/stock/${pickSku(rng, pools)}`] : ['POST', '/api/v1/reservations'];
    case 'frontend':
      if (r < 0.3) return ['GET', `/p/${pickSku(rng, pools)}`];
      if (r < 0.5) return ['GET', `/c/${rng.pick(WORDS)}`];
      if (r < 0.7)
        return ['GET', `/static/${rng.pick(['js', 'css', 'img'])}/${rng.pick(WORDS)}.${rng.hex(8)}.js`];
      return ['GET', rng.pick(['/', '/cart', '/checkout', '/account', '/search'])];
    case 'payment-gateway':
      return r < 0.5 ? ['POST', `/v2/payments/${rng.uuid()}/capture`] : ['POST', '/v2/payments'];
    case 'auth-api':
      return r < 0.6 ? ['POST', '/oauth/token'] : ['GET', '/userinfo'];
    case 'token-service':
      return ['POST', '/v1/tokens/introspect'];
    default:
      return r < 0.5 ? ['GET', `/api/v1/${app}/${id()}`] : ['POST', `/api/v1/${app}`];
  }
}

function makeReq(ctx: Ctx, s: Stream, browser: boolean): Req {
  const { rng, pools } = ctx;
  const user = pickUser(rng, pools);
  const [method, path] = pathFor(ctx, s.app, user);
  const probe =
    path.startsWith('/healthz') || path.startsWith('/readyz') || path === '/metrics' || path === '/livez';
  let status = method === 'POST' && rng.chance(0.3) ? 201 : 200;
  if (!probe && rng.chance(0.04)) status = rng.pick(STATUS_ERR);
  if (browser && status === 200 && rng.chance(0.1)) status = 304;
  let latencyMs = probe ? rng.lognormal(0.8, 0.5) : rng.lognormal(14, 1.1);
  if (status === 504) latencyMs = 5000 + rng.int(30000);
  return {
    method,
    path,
    status,
    bytes: status === 304 ? 0 : Math.floor(rng.lognormal(probe ? 20 : 1800, 1.2)),
    latencyMs,
    user,
    ip: browser ? rng.publicIp() : `10.${rng.range(128, 131)}.${rng.int(256)}.${rng.range(2, 254)}`,
    ua: browser ? rng.pick(BROWSER_AGENTS) : rng.pick(SERVICE_AGENTS),
    traceId: rng.hex(32),
  };
}

/** Error texts; some mention `timeout` or match `(timed out|deadline exceeded) after [0-9]+ms`. */
export function errorText(rng: Rng): string {
  const ip = `10.${rng.range(128, 131)}.${rng.int(256)}.${rng.range(2, 254)}`;
  switch (rng.int(11)) {
    case 0:
      return 'upstream request timeout';
    case 1:
      return `call to inventory.Reserve failed: context deadline exceeded after ${rng.range(500, 10000)}ms`;
    case 2:
      return `dial tcp ${ip}:5432: connect: connection refused`;
    case 3:
      return 'pq: duplicate key value violates unique constraint "orders_pkey"';
    case 4:
      return 'redis: connection pool timeout';
    case 5:
      return `read tcp 10.128.${rng.int(256)}.${rng.int(256)}:${rng.range(30000, 60999)}->${ip}:6379: i/o timeout`;
    case 6:
      return `payment declined: ${rng.pick(['insufficient_funds', 'card_expired', 'do_not_honor', 'fraud_suspected'])}`;
    case 7:
      return 'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing"';
    case 8:
      return `invalid token: token is expired by ${rng.range(1, 59)}m${rng.range(0, 59)}s`;
    case 9:
      return `request to ${rng.pick(['fraud-detector', 'ledger', 'shipping', 'catalog'])} timed out after ${rng.range(1000, 30000)}ms`;
    default:
      return `EOF while reading response from ${ip}:8080`;
  }
}

type Fields = [string, string | number | boolean][];

function event(ctx: Ctx, s: Stream): [level: string, msg: string, fields: Fields] {
  const { rng, pools } = ctx;
  const r = rng.float();
  if (r < 0.35) {
    const q = makeReq(ctx, s, false);
    const lvl = q.status >= 500 ? 'error' : q.status >= 400 ? 'warn' : 'info';
    const f: Fields = [
      ['method', q.method],
      ['path', q.path],
      ['status', q.status],
      ['latency_ms', Math.round(q.latencyMs * 100) / 100],
    ];
    if (rng.chance(0.6)) f.push(['user_id', q.user.id]);
    if (rng.chance(0.4)) f.push(['trace_id', q.traceId]);
    if (q.status >= 500) f.push(['error', errorText(rng)]);
    return [lvl, 'request completed', f];
  }
  const user = pickUser(rng, pools);
  if (r < 0.48) {
    const amount = (Math.round(rng.lognormal(4500, 1)) / 100).toFixed(2);
    const what = rng.pick([
      'order placed',
      'payment authorized',
      'item added to cart',
      'refund issued',
      'shipment created',
    ]);
    return [
      'info',
      what,
      [
        ['order_id', rng.range(10_000_000, 99_999_999)],
        ['user_id', user.id],
        ['amount', amount],
        ['currency', rng.pick(['EUR', 'EUR', 'USD', 'GBP', 'CHF', 'PLN'])],
      ],
    ];
  }
  if (r < 0.8) {
    const hit = rng.chance(0.8);
    return ['debug', hit ? 'cache hit' : 'cache miss', [['key', `product:${pickSku(rng, pools)}`]]];
  }
  if (r < 0.88) {
    return [
      'warn',
      rng.pick(['slow query', 'retrying request', 'slow downstream call']),
      [
        ['duration_ms', rng.range(300, 8000)],
        ['attempt', rng.range(1, 4)],
        ['user', user.name],
      ],
    ];
  }
  if (r < 0.97) {
    return [
      'error',
      rng.pick(['request failed', 'failed to process message', 'downstream call failed']),
      [
        ['error', errorText(rng)],
        ['trace_id', rng.hex(32)],
      ],
    ];
  }
  return [
    'info',
    rng.pick(['config reloaded', 'connection pool resized', 'leader election renewed']),
    [['pool_size', rng.range(4, 64)]],
  ];
}

function structlogJson(entries: Fields): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ')}}`;
}

const PINO_LEVEL: Record<string, number> = { debug: 20, info: 30, warn: 40, error: 50 };
const CALLERS = [
  'handler/http.go',
  'service/orders.go',
  'repo/postgres.go',
  'client/grpc.go',
  'middleware/log.go',
  'cache/redis.go',
];

export function jsonLine(ctx: Ctx, s: Stream): string {
  const [level, msg, fields] = event(ctx, s);
  const { clock, rng } = ctx;
  switch (s.style) {
    case 'pino': {
      const o: Record<string, unknown> = {
        level: PINO_LEVEL[level],
        time: clock.ms,
        pid: s.pid,
        hostname: s.pod,
      };
      for (const [k, v] of fields) o[k] = v;
      o.msg = msg;
      return JSON.stringify(o);
    }
    case 'logrus': {
      const all: Fields = [
        ...fields,
        ['level', level === 'warn' ? 'warning' : level],
        ['msg', msg],
        ['time', clock.isoS()],
      ];
      all.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      return JSON.stringify(Object.fromEntries(all));
    }
    case 'structlog':
      return structlogJson([
        ['event', msg],
        ['level', level === 'warn' ? 'warning' : level],
        ['logger', `${s.app.replace(/-/g, '_')}.${rng.pick(['api', 'worker', 'db'])}`],
        ['timestamp', clock.isoUs()],
        ...fields,
      ]);
    default: {
      const o: Record<string, unknown> = { level, ts: Number(clock.epochSeconds()) };
      // Half the Go services log the caller (zap's AddCaller), half do not.
      if (s.index % 2 === 0)
        o.caller = `${CALLERS[rng.skewed(CALLERS.length, 2)]}:${40 + rng.skewed(300, 3)}`;
      o.msg = msg;
      for (const [k, v] of fields) o[k] = v;
      return JSON.stringify(o);
    }
  }
}

export function nginxLine(ctx: Ctx, s: Stream): string {
  const q = makeReq(ctx, s, true);
  const { rng, clock, pools } = ctx;
  const rt = (q.latencyMs / 1000).toFixed(3);
  return `${q.ip} - - [${clock.clf()}] "${q.method} ${q.path} HTTP/${rng.chance(0.7) ? '2.0' : '1.1'}" ${q.status} ${q.bytes} "${rng.pick(pools.referers)}" "${q.ua}" rt=${rt}`;
}

export function envoyLine(ctx: Ctx, s: Stream): string {
  const q = makeReq(ctx, s, false);
  const flags = q.status === 504 ? 'UT' : q.status === 503 ? 'UF' : '-';
  const up = `${s.podIp}:8080`;
  return `[${ctx.clock.iso}] "${q.method} ${q.path} HTTP/1.1" ${q.status} ${flags} via_upstream - "-" 0 ${q.bytes} ${Math.round(q.latencyMs)} ${Math.max(0, Math.round(q.latencyMs) - 1)} "${ctx.rng.uuid()}" "${up}"`;
}

export function haproxyLine(ctx: Ctx, _s: Stream): string {
  const { rng, clock } = ctx;
  const q = makeReq(ctx, _s, true);
  const app = rng.pick(['frontend', 'frontend', 'frontend', 'auth-api', 'payment-gateway']);
  const ns = app === 'frontend' ? 'shop' : app === 'auth-api' ? 'auth' : 'payments';
  const t = Math.round(q.latencyMs);
  return `${q.ip}:${rng.range(1024, 65535)} [${clock.haproxy()}] fe_sni~ be_secure:${ns}:${app}/pod:${app}:https:10.${rng.range(128, 131)}.${rng.int(256)}.${rng.range(2, 254)}:8443 0/0/${rng.int(3)}/${t}/${t + 1} ${q.status} ${q.bytes} - - ---- ${rng.range(50, 400)}/${rng.range(10, 90)}/0/0/0 0/0 "${q.method} ${q.path} HTTP/1.1"`;
}
