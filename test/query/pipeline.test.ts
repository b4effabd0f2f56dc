/**
 * The metric engine with pipeline stages the store cannot evaluate, through the pipeline contract
 * (src/logql/stages/types.ts). A small stand-in evaluator (logfmt, label filters on strings,
 * line_format to a constant) keeps these tests independent of the real one.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PipelineStage } from '../../src/logql/ast.js';
import type { CompileLogPipeline, LogPipelineOutput } from '../../src/logql/stages/types.js';
import { labelsKey } from '../../src/model/labels-key.js';
import type { Labels } from '../../src/model/record.js';
import { evaluateInstant, LogPipelineError } from '../../src/query/metric/index.js';
import type { Store } from '../../src/store/store.js';
import { describeEachStore } from '../store/factories.js';
import { agg, by, MIN, m, rec, rng, SEC, sel, tempStore, unwrap } from './helpers.js';

const T = 28_333_333n * MIN;

const fakeCompile: CompileLogPipeline = (stages: readonly PipelineStage[]) => ({
  linesOnly: false,
  process(input): LogPipelineOutput | undefined {
    let line = input.line;
    const parsed: Labels = {};
    for (const st of stages) {
      if (st.type === 'logfmt') {
        const pairs = line.split(' ').map((p) => p.split('='));
        if (pairs.some((p) => p.length !== 2)) {
          parsed.__error__ = 'LogfmtParserErr';
          parsed.__error_details__ = 'bad pair';
        } else for (const [k, v] of pairs) parsed[k!] = v!;
      } else if (st.type === 'labelFilter' && st.filter.kind === 'string') {
        const v = parsed[st.filter.name] ?? input.stream[st.filter.name] ?? '';
        if ((v === st.filter.value) !== (st.filter.op === '=')) return undefined;
      } else if (st.type === 'lineFormat') {
        line = st.template;
      } else throw new Error(`stand-in pipeline: ${st.type}`);
    }
    return { line, stream: input.stream, metadata: input.metadata, parsed };
  },
});

const logfmt: PipelineStage = { type: 'logfmt', strict: false, keepEmpty: false, params: [] };
const noError: PipelineStage = {
  type: 'labelFilter',
  filter: { kind: 'string', name: '__error__', op: '=', value: '' },
};

describeEachStore('metric engine with a pipeline', (factory) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ store, cleanup } = await tempStore(factory));
    await store.append('p', [
      rec({ app: 'lf' }, T + 10n * SEC, 'level=info took=1.5s'),
      rec({ app: 'lf' }, T + 20n * SEC, 'level=error took=250ms'),
      rec({ app: 'lf' }, T + 30n * SEC, 'level=info took=2s'),
      rec({ app: 'lf' }, T + 40n * SEC, 'garbage line here'),
    ]);
  });
  after(() => cleanup());
  const ctx = () => ({ store, tenant: 'p', compileLogPipeline: fakeCompile });
  const lines = (r: Awaited<ReturnType<typeof evaluateInstant>>) =>
    r.type === 'vector' ? r.samples.map((s) => `${labelsKey(s.labels)} ${s.value}`) : [`scalar ${r.value}`];

  test('extracted labels join the series; grouping sees them', async () => {
    const expr = agg(
      'sum',
      rng('count_over_time', sel([m('app', 'lf')], [logfmt, noError]), MIN),
      by('level'),
    );
    const r = await evaluateInstant(ctx(), expr, T + MIN);
    assert.deepEqual(lines(r), ['{level="error"} 1', '{level="info"} 2']);
    assert.equal(r.stats.linesCounted, 0, 'a pipeline streams');
    assert.equal(r.stats.linesProcessed, 4);
  });

  test('a parser error that reaches the range aggregation fails the query', async () => {
    const expr = rng('count_over_time', sel([m('app', 'lf')], [logfmt]), MIN);
    await assert.rejects(evaluateInstant(ctx(), expr, T + MIN), (err: Error) => {
      assert.ok(err instanceof LogPipelineError);
      assert.match(
        err.message,
        /^pipeline error: 'LogfmtParserErr' for series: '\{__error__="LogfmtParserErr", /,
      );
      return true;
    });
  });

  test('unwrap of an extracted label, grouped by another', async () => {
    const expr = agg(
      'sum',
      rng('sum_over_time', sel([m('app', 'lf')], [logfmt, noError]), MIN, {
        unwrap: unwrap('took', 'duration'),
      }),
      by('level'),
    );
    assert.deepEqual(lines(await evaluateInstant(ctx(), expr, T + MIN)), [
      '{level="error"} 0.25',
      '{level="info"} 3.5',
    ]);
  });

  test('bytes count the line after line_format', async () => {
    const expr = agg(
      'sum',
      rng('bytes_over_time', sel([m('app', 'lf')], [{ type: 'lineFormat', template: 'xy' }]), MIN),
    );
    assert.deepEqual(lines(await evaluateInstant(ctx(), expr, T + MIN)), ['{} 8']);
  });
});
