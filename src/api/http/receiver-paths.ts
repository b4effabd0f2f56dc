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
