/**
 * @module The `elasticsearch` output against a local server implementing the `_bulk` API as
 * Elasticsearch parses it: NDJSON that must end with a newline, an action line naming one of
 * create/delete/index/update with an `_index`, a source line after each create/index, index name
 * rules, per-item statuses with `errors: true`. Plus the ViaQ document and the index pattern.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Options } from '../../../../src/config/options.js';
import type { LogRecord } from '../../../../src/model/record.js';
import { bulkBody, elasticsearchOutput } from '../../../../src/pipeline/outputs/http/elasticsearch.js';
import { indexName, parseIndexPattern } from '../../../../src/pipeline/outputs/http/es-index.js';
import { viaqDocument } from '../../../../src/pipeline/outputs/http/viaq.js';
import { OutputError } from '../../../../src/pipeline/outputs/output.js';
import { contractRecords, outputContract } from '../output-contract.js';
import { type PeerReply, type PeerRequest, peerHarness, startPeerServer } from './peer-server.js';

const ctx = { baseDir: process.cwd() };

const esError = (status: number, type: string, reason: string): PeerReply => ({
  status,
  body: JSON.stringify({ error: { root_cause: [{ type, reason }], type, reason }, status }),
});

interface Stored {
  index: string;
  doc: Record<string, unknown>;
}

/** An Elasticsearch cluster's `_bulk` endpoint, storing documents in `stored`. */
function bulkApi(stored: Stored[]) {
  let nextId = 0;
  return (req: PeerRequest): PeerReply => {
    if (req.method !== 'POST' || !req.url.startsWith('/_bulk'))
      return esError(405, 'illegal_argument_exception', 'no handler');
    const ct = String(req.headers['content-type'] ?? '').split(';')[0];
    if (ct !== 'application/x-ndjson' && ct !== 'application/json') {
      return esError(406, 'media_type_header_exception', `Content-Type header [${ct}] is not supported`);
    }
    const text = req.body.toString('utf8');
    if (text.length === 0)
      return esError(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;');
    if (!text.endsWith('\n')) {
      return esError(
        400,
        'illegal_argument_exception',
        'The bulk request must be terminated by a newline [\\n]',
      );
    }
    const lines = text.slice(0, -1).split('\n');
    const items: Record<string, unknown>[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i++) {
      let action: Record<string, { _index?: string }>;
      try {
        action = JSON.parse(lines[i]!) as typeof action;
      } catch {
        return esError(400, 'x_content_parse_exception', `[1:1] Unexpected character in line ${i + 1}`);
      }
      const keys = Object.keys(action);
      const op = keys[0] ?? '';
      if (keys.length !== 1 || !['create', 'delete', 'index', 'update'].includes(op)) {
        return esError(
          400,
          'illegal_argument_exception',
          `Malformed action/metadata line [${i + 1}], expected one of [create, delete, index, update] but found [${op}]`,
        );
      }
      const index = action[op]?._index;
      if (index === undefined)
        return esError(400, 'action_request_validation_exception', 'Validation Failed: 1: index is missing;');
      if (op === 'delete') continue;
      const source = lines[++i];
      if (source === undefined)
        return esError(
          400,
          'illegal_argument_exception',
          'The bulk request must be terminated by a newline [\\n]',
        );
      const doc = JSON.parse(source) as Record<string, unknown>;
      if (index !== index.toLowerCase() || /[\\/*?"<>| ,#:]/.test(index)) {
        errors = true;
        items.push({
          [op]: {
            _index: index,
            status: 400,
            error: { type: 'invalid_index_name_exception', reason: `Invalid index name [${index}]` },
          },
        });
      } else if (doc.message === '__reject__') {
        errors = true;
        items.push({
          [op]: {
            _index: index,
            status: 400,
            error: {
              type: 'mapper_parsing_exception',
              reason: 'failed to parse field [level] of type [long]',
            },
          },
        });
      } else if (doc.message === '__busy__') {
        errors = true;
        items.push({
          [op]: {
            _index: index,
            status: 429,
            error: {
              type: 'es_rejected_execution_exception',
              reason: 'rejected execution of coordinating operation',
            },
          },
        });
      } else {
        stored.push({ index, doc });
        items.push({
          [op]: { _index: index, _id: String(nextId++), _version: 1, result: 'created', status: 201 },
        });
      }
    }
    return { status: 200, body: JSON.stringify({ took: 1, errors, items }) };
  };
}

outputContract('elasticsearch', () => {
  const stored: Stored[] = [];
  return peerHarness(
    bulkApi(stored),
    (url) => elasticsearchOutput('es', new Options({ url }, []), ctx),
    () => stored.map((s) => String(s.doc.message)),
  )();
});

const T = 1_714_557_600_123_456_789n; // 2024-05-01T10:00:00.123456789Z

function podRecord(body: string, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    timestamp: T,
    observedTimestamp: T,
    labels: {
      kind: 'containerlog',
      class: 'application',
      namespace: 'shop',
      pod: 'cart-7d9',
      container: 'cart',
      node: 'node-1',
      kubernetes_labels_app: 'cart',
    },
    attributes: { level: 'ERROR', trace_id: 'abc' },
    body,
    ...extra,
  };
}

describe('elasticsearch output', () => {
  test('the _bulk body, byte for byte: create actions, ViaQ documents, a newline after each line', async () => {
    const stored: Stored[] = [];
    const peer = await startPeerServer(bulkApi(stored));
    const out = elasticsearchOutput('es', new Options({ url: `${peer.url}/`, apiKey: 'a2V5' }, []), ctx);
    try {
      await out.send([podRecord('boom')], AbortSignal.timeout(5000));
      const req = peer.requests[0]!;
      assert.equal(req.url, '/_bulk');
      assert.equal(req.headers['content-type'], 'application/x-ndjson');
      assert.equal(req.headers.authorization, 'ApiKey a2V5');
      assert.equal(
        req.body.toString('utf8'),
        '{"create":{"_index":"kjournal-containerlog-2024.05.01"}}\n' +
          '{"@timestamp":"2024-05-01T10:00:00.123456789Z","message":"boom","level":"err","log_type":"application",' +
          '"hostname":"node-1","kubernetes":{"namespace_name":"shop","pod_name":"cart-7d9","container_name":"cart",' +
          '"host":"node-1","labels":{"app":"cart"}},"trace_id":"abc"}\n',
      );
      assert.deepEqual(
        stored.map((s) => s.index),
        ['kjournal-containerlog-2024.05.01'],
      );
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('action: index, a pipeline, and an index pattern with labels and the hour', async () => {
    const stored: Stored[] = [];
    const peer = await startPeerServer(bulkApi(stored));
    const out = elasticsearchOutput(
      'es',
      new Options(
        { url: peer.url, action: 'index', pipeline: 'viaq', index: 'logs-{log_type}-{namespace}-%Y%m%d%H' },
        [],
      ),
      ctx,
    );
    try {
      await out.send([podRecord('a')], AbortSignal.timeout(5000));
      assert.equal(peer.requests[0]!.url, '/_bulk?pipeline=viaq');
      assert.match(
        peer.requests[0]!.body.toString('utf8'),
        /^\{"index":\{"_index":"logs-application-shop-2024050110"\}\}\n/,
      );
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('an item rejected by a mapping error rejects the batch with its reason', async () => {
    const stored: Stored[] = [];
    const peer = await startPeerServer(bulkApi(stored));
    const out = elasticsearchOutput('es', new Options({ url: peer.url }, []), ctx);
    try {
      await assert.rejects(
        out.send(contractRecords(['fine', '__reject__']), AbortSignal.timeout(5000)),
        (err: unknown) => {
          assert.ok(err instanceof OutputError);
          assert.equal(err.retryable, false);
          assert.match(
            err.message,
            /1 of 2 documents failed \(status 400, mapper_parsing_exception: failed to parse field \[level\]/,
          );
          return true;
        },
      );
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('an item refused with 429 makes the batch retryable', async () => {
    const stored: Stored[] = [];
    const peer = await startPeerServer(bulkApi(stored));
    const out = elasticsearchOutput('es', new Options({ url: peer.url }, []), ctx);
    try {
      await assert.rejects(
        out.send(contractRecords(['__reject__', '__busy__']), AbortSignal.timeout(5000)),
        (err: unknown) => {
          assert.ok(err instanceof OutputError);
          assert.equal(err.retryable, true);
          assert.match(err.message, /2 of 2 documents failed \(status 429, es_rejected_execution_exception/);
          return true;
        },
      );
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('a label value is made a valid index name; a missing label is "none"', () => {
    const p = parseIndexPattern('k-{namespace}-{team}-%%');
    assert.equal(indexName(p, podRecord('x', { labels: { namespace: 'My NS/a' } })), 'k-my_ns_a-none-%');
  });

  test('bad index patterns are ConfigErrors', () => {
    for (const [index, msg] of [
      ['Logs-%Y', /not valid in an index name/],
      ['logs-%q', /unknown date field %q/],
      ['logs-{a b}', /bad placeholder/],
      ['_logs', /must not start with/],
    ] as const) {
      assert.throws(
        () => elasticsearchOutput('es', new Options({ url: 'http://x', index }, ['outputs', 3]), ctx),
        msg,
      );
    }
  });

  test('ViaQ levels and log_type', () => {
    const doc = (attributes: Record<string, string>) => viaqDocument(podRecord('m', { attributes }));
    assert.equal(doc({ level: 'warning' }).level, 'warn');
    assert.equal(doc({ level: 'CRITICAL' }).level, 'crit');
    assert.equal(doc({ detected_level: 'debug' }).level, 'debug');
    assert.equal(doc({ level: '6' }).level, 'info');
    assert.equal(doc({ level: 'loud' }).level, 'unknown');
    assert.equal(doc({}).level, 'unknown');
    // Attributes never replace the model's own fields.
    assert.equal(doc({ message: 'other', 'kubernetes.x': 'y' }).message, 'm');
    assert.equal(
      viaqDocument(podRecord('a', { labels: { kind: 'auditevent', log_type: 'audit' } })).log_type,
      'audit',
    );
  });

  test('bulkBody ends every line with a newline', () => {
    const body = bulkBody(contractRecords(['a', 'b']), parseIndexPattern('x'), 'create');
    assert.equal(body.split('\n').length, 5);
    assert.ok(body.endsWith('\n'));
  });
});
