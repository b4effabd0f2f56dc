/**
 * @module What Elasticsearch clients and shippers ask before they send, answered harmlessly:
 *  - `GET /` and `HEAD /`: the root document with a version (Vector's `api_version: auto` and
 *    Filebeat read `version.number`; 8.x makes them send `_bulk` without mapping types);
 *  - `GET /_license`, `GET /_xpack`: a basic, active license (Filebeat and Logstash's output check);
 *  - index templates, legacy templates, ILM policies and ingest pipelines (`/_index_template/<n>`,
 *    `/_template/<n>`, `/_ilm/policy/<n>`, `/_ingest/pipeline/<n>`): GET and HEAD answer 404, so a
 *    shipper installs its own, and PUT/POST/DELETE answer `acknowledged`: kjournal keeps no
 *    mappings;
 *  - `GET /_cluster/health`, `/_nodes[/...]`: a green single-node cluster.
 * None of them reads or stores anything: each is decided for every authenticated caller (the auth
 * gate leaves them to this handler: api/http/receiver-paths.ts).
 */
import type { Handler, Reply } from '../http/router.js';
import { ES_HEADERS, esError } from './errors.js';

/** The Elasticsearch version kjournal answers as: 8.x, whose bulk API shippers default to. */
export const ES_COMPAT_VERSION = '8.17.0';

const json = (value: unknown, status = 200): Reply => ({
  status,
  headers: { ...ES_HEADERS },
  body: JSON.stringify(value),
});

/** A handler that stores nothing and reveals nothing: decided for whoever passed the gate. */
function open(answer: (method: string) => Reply): Handler {
  return async ({ req, access }) => {
    await access.require([]);
    const reply = answer(req.method ?? 'GET');
    return req.method === 'HEAD' ? { status: reply.status, headers: reply.headers ?? {} } : reply;
  };
}

export function rootHandler(kjournalVersion: string): Handler {
  return open(() =>
    json({
      name: 'kjournal',
      cluster_name: 'kjournal',
      cluster_uuid: 'kjournal',
      version: {
        number: ES_COMPAT_VERSION,
        build_flavor: 'default',
        build_type: 'kjournal',
        build_hash: kjournalVersion,
        build_date: '2024-01-01T00:00:00.000Z',
        build_snapshot: false,
        lucene_version: '9.12.0',
        minimum_wire_compatibility_version: '7.17.0',
        minimum_index_compatibility_version: '7.0.0',
      },
      tagline: 'You Know, for Search',
    }),
  );
}

export const licenseHandler: Handler = open(() =>
  json({ license: { status: 'active', uid: 'kjournal', type: 'basic', issue_date_in_millis: 0 } }),
);

export const xpackHandler: Handler = open(() =>
  json({
    build: { hash: 'kjournal', date: '2024-01-01T00:00:00.000Z' },
    license: { uid: 'kjournal', type: 'basic', mode: 'basic', status: 'active' },
    features: {},
  }),
);

/** Templates, policies, pipelines: none kept, every install acknowledged. */
export const settingsHandler: Handler = open((method) =>
  method === 'GET' || method === 'HEAD'
    ? esError(404, 'resource_not_found_exception', 'kjournal keeps no templates, policies or pipelines')
    : json({ acknowledged: true }),
);

export const healthHandler: Handler = open(() =>
  json({
    cluster_name: 'kjournal',
    status: 'green',
    timed_out: false,
    number_of_nodes: 1,
    number_of_data_nodes: 1,
    active_primary_shards: 0,
    active_shards: 0,
    relocating_shards: 0,
    initializing_shards: 0,
    unassigned_shards: 0,
  }),
);

export const nodesHandler: Handler = open(() =>
  json({ _nodes: { total: 1, successful: 1, failed: 0 }, cluster_name: 'kjournal', nodes: {} }),
);
