/**
 * Stream labels, structured metadata and parsed labels in query answers, as Loki v3 gives them
 * (issue 14 item 3): structured metadata named like a stream label takes `_extracted` (Loki's
 * LabelsBuilder.Add), a parsed field named like structured metadata takes `_extracted` too
 * (grafana/loki#19991); in the streams of log queries, with and without categorize-labels, in metric
 * series on each path of the engine (store push-down, bucketed pipeline, streaming) and in tail frames.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { lokiErrorReply } from '../../src/api/loki/errors.js';
import { tailFrame } from '../../src/api/loki/tail.js';
import { isLogExpr, type LogExpr, type MetricExpr } from '../../src/logql/ast.js';
import { parseLogql } from '../../src/logql/parser.js';
import { LogPipelineCompileError } from '../../src/logql/stages/index.js';
import { labelsKey } from '../../src/model/labels-key.js';
import type { Labels } from '../../src/model/record.js';
import { runLogQuery } from '../../src/query/log-query.js';
import { evaluateInstant } from '../../src/query/metric/index.js';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../store/factories.js';
import { MIN, rec, SEC, tempStore } from './helpers.js';

const T = 28_333_333n * MIN;

function logExpr(q: string): LogExpr {
  const e = parseLogql(q);
  assert.ok(isLogExpr(e));
  return e;
}

/** Labels without the kind and class kjournal adds to every stream. */
function own(labels: Labels): Labels {
  const { kind: _k, class: _c, ...rest } = labels;
  return rest;
}

describeEachStore('label categories in query answers', (factory) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ store, cleanup } = await tempStore(factory));
    await store.append('t', [
      rec({ app: 'cat' }, T + 10n * SEC, 'trace=p1 level=info', { app: 'meta', trace: 'm1' }),
      rec({ app: 'cat' }, T + 20n * SEC, 'trace=p2 level=info', { app: 'meta', trace: 'm1' }),
    ]);
  });
  after(() => cleanup());

  const logs = async (q: string, categorize = false) =>
    runLogQuery(store, {
      tenant: 't',
      expr: logExpr(q),
      start: T,
      end: T + MIN,
      limit: 100,
      direction: 'forward',
      categorize,
    });

  test('a log query without stages: metadata named like a stream label takes _extracted', async () => {
    const { result } = await logs('{app="cat"}');
    assert.equal(result.length, 1);
    assert.deepEqual(own(result[0]!.stream), { app: 'cat', app_extracted: 'meta', trace: 'm1' });
  });

  test('with categorize-labels: the stream keeps its label, the metadata has the renamed one', async () => {
    const { result } = await logs('{app="cat"}', true);
    assert.equal(result.length, 1);
    assert.deepEqual(own(result[0]!.stream), { app: 'cat' });
    assert.deepEqual(result[0]!.values[0]![2], {
      structuredMetadata: { app_extracted: 'meta', trace: 'm1' },
    });
  });

  test('a parser: the parsed field named like metadata takes _extracted', async () => {
    const { result } = await logs('{app="cat"} | logfmt');
    assert.deepEqual(
      result.map((s) => own(s.stream)),
      [
        { app: 'cat', app_extracted: 'meta', trace: 'm1', trace_extracted: 'p1', level: 'info' },
        { app: 'cat', app_extracted: 'meta', trace: 'm1', trace_extracted: 'p2', level: 'info' },
      ],
    );
    const cat = await logs('{app="cat"} | logfmt', true);
    assert.deepEqual(cat.result[0]!.values[0]![2], {
      structuredMetadata: { app_extracted: 'meta', trace: 'm1' },
      parsed: { trace_extracted: 'p1', level: 'info' },
    });
  });

  test('label filters and drop on the two names', async () => {
    const kept = await logs('{app="cat"} | logfmt | trace="m1" | trace_extracted="p2" | drop app_extracted');
    assert.deepEqual(
      kept.result.map((s) => own(s.stream)),
      [{ app: 'cat', trace: 'm1', trace_extracted: 'p2', level: 'info' }],
    );
  });

  const metric = async (q: string, path: 'auto' | 'stream' = 'auto') => {
    const r = await evaluateInstant({ store, tenant: 't', path }, parseLogql(q) as MetricExpr, T + MIN);
    assert.equal(r.type, 'vector');
    return r.type === 'vector' ? r.samples.map((s) => `${labelsKey(own(s.labels))} ${s.value}`) : [];
  };

  test('metric series, pushed down to the store and streamed', async () => {
    const want = ['{app="cat", app_extracted="meta", trace="m1"} 2'];
    assert.deepEqual(await metric('count_over_time({app="cat"}[1m])'), want);
    assert.deepEqual(await metric('count_over_time({app="cat"}[1m])', 'stream'), want);
    assert.deepEqual(await metric('count_over_time({app="cat"} |= "trace" [1m])', 'stream'), want);
    assert.deepEqual(await metric('sum by (app_extracted) (count_over_time({app="cat"}[1m]))'), [
      '{app_extracted="meta"} 2',
    ]);
  });

  test('metric series through a parser, bucketed and streamed', async () => {
    const q = 'sum by (trace, trace_extracted) (count_over_time({app="cat"} | logfmt [1m]))';
    const want = ['{trace="m1", trace_extracted="p1"} 1', '{trace="m1", trace_extracted="p2"} 1'];
    assert.deepEqual(await metric(q), want);
    assert.deepEqual(await metric(q, 'stream'), want);
  });

  test('tail frames', () => {
    const frame = JSON.parse(
      tailFrame([{ labels: { app: 'cat' }, attributes: { app: 'meta' }, timestamp: 1n, body: 'x' }], []),
    ) as { streams: { stream: Labels }[] };
    assert.deepEqual(frame.streams[0]!.stream, { app: 'cat', app_extracted: 'meta' });
  });
});

test('a stage Loki refuses when it builds the pipeline is a 400 with its message', () => {
  const reply = lokiErrorReply(
    new LogPipelineCompileError('cannot parse expression [a b]: syntax error: unexpected KEY'),
  );
  assert.equal(reply.status, 400);
  assert.equal(String(reply.body), 'cannot parse expression [a b]: syntax error: unexpected KEY\n');
});
