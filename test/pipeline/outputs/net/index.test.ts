/**
 * @module NET_OUTPUTS: each type builds an output of that type from its options.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Options } from '../../../../src/config/options.js';
import { NET_OUTPUTS } from '../../../../src/pipeline/outputs/net/index.js';

test('NET_OUTPUTS builds gelf, syslog, forward and file outputs', async () => {
  const opts: Record<string, Record<string, unknown>> = {
    gelf: { url: 'udp://127.0.0.1:12201' },
    syslog: { url: 'tcp://127.0.0.1:514' },
    forward: { url: 'tcp://127.0.0.1:24224' },
    file: { path: 'out.ndjson' },
  };
  assert.deepEqual(Object.keys(NET_OUTPUTS).sort(), Object.keys(opts).sort());
  for (const [type, factory] of Object.entries(NET_OUTPUTS)) {
    const out = factory(`my-${type}`, new Options(opts[type], ['outputs', 0]), { baseDir: '/tmp' });
    assert.equal(out.type, type);
    assert.equal(out.name, `my-${type}`);
    await out.close();
  }
});
