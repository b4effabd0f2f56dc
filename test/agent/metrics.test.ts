/**
 * The agent's /metrics (`--metrics`): kjournal_build_info, and every family, the pipeline's
 * included, named by Prometheus' conventions (issue 19 item 4).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentMetrics, serveMetrics } from '../../src/agent/metrics.js';
import { flowMetrics, outputMetrics } from '../../src/pipeline/metrics.js';
import { ownVersion } from '../../src/util/version.js';
import { namingProblem, parseExposition } from '../helpers/exposition.js';

test("the agent's /metrics: build info, and every name by the conventions", async () => {
  const metrics = new AgentMetrics();
  // The pipeline's families appear once they have a sample, as in an agent with outputs.
  outputMetrics(metrics.registry).deadLetter.inc({ output: 'o' }, 0);
  flowMetrics(metrics.registry).recordsIn.inc({ flow: 'f' }, 0);
  metrics.readRecords.inc({ source: 'pods' }, 3);
  const server = await serveMetrics('127.0.0.1:0', metrics.registry, () => true);
  try {
    const e = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
    const info = e.samples.filter((s) => s.name === 'kjournal_build_info');
    assert.equal(info.length, 1);
    assert.deepEqual(
      { ...info[0]!.labels, revision: undefined },
      { version: ownVersion(), nodejs_version: process.version, revision: undefined },
    );
    assert.notEqual(ownVersion(), 'unknown');
    assert.equal(info[0]!.value, 1);
    const names = [...e.types];
    assert.ok(names.length > 15, `families: ${names.length}`);
    assert.ok(names.some(([n]) => n === 'kjournal_output_dead_letter_records_total'));
    assert.deepEqual(
      names.map(([n, t]) => [n, namingProblem(n, t)]).filter(([, p]) => p !== undefined),
      [],
    );
  } finally {
    await server.close();
  }
});
