/**
 * The sources' sections of the agent configuration (src/sources/sections.ts), each read by its own
 * source: the agent's whole file and flags are tested in test/agent/config.test.ts; here, what the
 * split must keep: only source keys are read, the file's errors come before the flags', and
 * `--kubeconfig` goes to every source that uses it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/sources/config-values.js';
import { podsFromFile, podsWithFlags } from '../../src/sources/pods/config.js';
import { readSourceSections, SOURCE_KINDS } from '../../src/sources/sections.js';

test('reads only the source keys of the file, in the agent order', () => {
  assert.deepEqual(SOURCE_KINDS, ['pods', 'audit', 'events', 'journal', 'syslog']);
  const s = readSourceSections(
    { server: 'http://x', buffer: { maxBytes: 1 }, syslog: { tcp: ':1' }, events: null },
    {},
  );
  assert.deepEqual(s, { events: {}, syslog: { tcp: ':1' } });
  assert.deepEqual(Object.keys(s), ['events', 'syslog']);
});

test("the file's error comes before the flags'", () => {
  assert.throws(
    () => readSourceSections({ journal: { matches: ['bad'] } }, { journal: ['also bad'] }),
    (e: unknown) => e instanceof ConfigError && e.message.startsWith('journal.matches[0]: '),
  );
  assert.throws(
    () => readSourceSections({}, { journal: ['also bad'] }),
    (e: unknown) => e instanceof ConfigError && e.message.startsWith('--journal[0]: '),
  );
});

test('--kubeconfig goes to the events source and to pod labels, and is refused when neither runs', () => {
  assert.deepEqual(readSourceSections({}, { events: true, podLabels: true, kubeconfig: '/k' }), {
    pods: { dir: '/var/log/pods', labels: true, kubeconfig: '/k' },
    events: { kubeconfig: '/k' },
  });
  assert.deepEqual(readSourceSections({ pods: { labels: true } }, { kubeconfig: '/k' }), {
    pods: { dir: '/var/log/pods', labels: true, kubeconfig: '/k' },
  });
  assert.throws(
    () => readSourceSections({ pods: {} }, { kubeconfig: '/k' }),
    /^ConfigError: --kubeconfig: only used by the events source and pod labels/,
  );
});

test('a source reads its own section and flags alone', () => {
  const file = podsFromFile({ dir: '/d', labels: true });
  assert.deepEqual(file, { dir: '/d', labels: true });
  assert.deepEqual(podsWithFlags(file, { podsDir: '/e' }), { dir: '/e', labels: true });
  assert.equal(podsWithFlags(undefined, {}), undefined, 'no section, no flag: the source stays off');
  assert.throws(() => podsFromFile('x'), /^ConfigError: pods: must be a mapping, got "x"$/);
});
