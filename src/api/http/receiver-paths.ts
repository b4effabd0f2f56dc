/**
 * @module The paths of the receivers of other collectors' protocols, for the auth gate
 * (api/http/auth-gate.ts): their write paths are intake (the tenant needs `create`, the handler
 * decides what the records need, as for the Loki push: auth/writes.ts), and the Elasticsearch
 * API's probes (`GET /`, `HEAD /`, `_license`, `_xpack`, templates...) are answered by their
 * handler, which reveals nothing and stores nothing, to any authenticated caller: a shipper with
 * only `create` on its logs must pass its client's start-up checks.
 */

/** Exact write paths: OTLP/HTTP logs (Loki's and the spec's), Elasticsearch bulk, journal upload. */
const WRITE_PATHS = new Set(['/otlp/v1/logs', '/v1/logs', '/_bulk', '/upload']);
/** `/<index>/_bulk`, `/<index>/_doc`. */
const INDEX_BULK = /^\/[^/]+\/(?:_bulk|_doc)$/;
/** What Elasticsearch clients and shippers ask before they send (api/elasticsearch/probes.ts). */
const ES_PROBES =
  /^\/(?:|_license|_xpack|_nodes(?:\/[^/]+)?|_cluster\/health|(?:_index_template|_template|_ilm\/policy|_ingest\/pipeline)\/[^/]+)$/;

/** A receiver's write path. */
export function isReceiverWritePath(path: string): boolean {
  return WRITE_PATHS.has(path) || INDEX_BULK.test(path);
}

/** An Elasticsearch probe, answered by its handler. */
export function isElasticsearchProbePath(path: string): boolean {
  return ES_PROBES.test(path);
}

/**
 * Whether a request for `/` is an Elasticsearch client's probe rather than a browser opening the
 * web page: the official clients send `x-elastic-client-meta` and ask for JSON
 * (`application/json`, `application/vnd.elasticsearch+json`); shippers check the server with
 * `HEAD /`; a browser asks for `text/html`.
 */
export function isElasticsearchRootProbe(req: {
  readonly method?: string | undefined;
  readonly headers: { readonly [name: string]: string | string[] | undefined };
}): boolean {
  if (req.headers['x-elastic-client-meta'] !== undefined) return true;
  const accept = String(req.headers.accept ?? '');
  if (accept.includes('text/html')) return false;
  return req.method === 'HEAD' || accept.includes('json');
}
