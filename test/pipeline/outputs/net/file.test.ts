/**
 * @module The `file` output: NDJSON lines (RFC 3339 nanosecond timestamp, labels, attributes, body)
 * appended to a path relative to the configuration's directory, one file per UTC day with `%Y-%m-%d`;
 * and the Output contract.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, Options } from '../../../../src/config/options.js';
import { expandPath, fileOutput } from '../../../../src/pipeline/outputs/net/file.js';
import { type OutputHarness, outputContract } from '../output-contract.js';
import { rec, signal } from './peers.js';

const make = (o: Record<string, unknown>, baseDir: string) =>
  fileOutput('file', new Options(o, ['outputs', 0]), { baseDir });

const readLines = (p: string) => readFileSync(p, 'utf8').split('\n').slice(0, -1);

describe('file output', () => {
  test('date placeholders from the UTC time', () => {
    assert.equal(expandPath('/x/%Y-%m-%d/%H.log', 1_709_618_828_123_456_789n), '/x/2024-03-05/06.log');
    assert.equal(expandPath('/x/100%%.log', 0n), '/x/100%.log');
  });

  test('bad options are ConfigErrors', () => {
    assert.throws(() => make({}, '/tmp'), ConfigError);
    assert.throws(() => make({ path: 'a-%q.log' }, '/tmp'), /unknown placeholder/);
    assert.throws(() => make({ path: 'a.log', mode: 1 }, '/tmp'), /unknown field/);
  });

  test('NDJSON lines, byte for byte, appended; directories created; one file per day', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kj-file-out-'));
    try {
      const out = make({ path: 'logs/%Y-%m-%d.ndjson' }, dir);
      const day2 = rec('next day', {}, 0);
      await out.send(
        [
          rec('héllo "x"\n', { attributes: { level: 'info' } }),
          { ...day2, timestamp: day2.timestamp + 86_400_000_000_000n },
          rec('same day again', {}, 1),
        ],
        signal(),
      );
      await out.send([rec('second batch', {}, 2)], signal());
      assert.deepEqual(readLines(join(dir, 'logs/2024-03-05.ndjson')), [
        '{"timestamp":"2024-03-05T06:07:08.123456789Z","labels":{"kind":"log","class":"application","namespace":"ns1"},"attributes":{"level":"info"},"body":"héllo \\"x\\"\\n"}',
        '{"timestamp":"2024-03-05T06:07:08.123457789Z","labels":{"kind":"log","class":"application","namespace":"ns1"},"attributes":{},"body":"same day again"}',
        '{"timestamp":"2024-03-05T06:07:08.123458789Z","labels":{"kind":"log","class":"application","namespace":"ns1"},"attributes":{},"body":"second batch"}',
      ]);
      const next = readLines(join(dir, 'logs/2024-03-06.ndjson'));
      assert.equal(next.length, 1);
      assert.equal(
        (JSON.parse(next[0]!) as { timestamp: string }).timestamp,
        '2024-03-06T06:07:08.123456789Z',
      );
      await out.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a path that cannot be written: retryable OutputError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kj-file-out-'));
    try {
      const out = make({ path: '/dev/null/sub/x.log' }, dir);
      await assert.rejects(out.send([rec('x')], signal()), (e: unknown) => {
        assert.ok(e instanceof Error && e.name === 'OutputError');
        assert.equal((e as { retryable?: boolean }).retryable, true);
        return true;
      });
      await out.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

outputContract('file', async (): Promise<OutputHarness> => {
  const dir = mkdtempSync(join(tmpdir(), 'kj-file-contract-'));
  const output = make({ path: 'out/%Y/%m/%d.ndjson' }, dir);
  return {
    output,
    async received() {
      const root = join(dir, 'out');
      if (!existsSync(root)) return [];
      // The contract's records are a minute old: one day's file, unless the test ran at midnight.
      const files = readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name))
        .sort();
      return files.flatMap(readLines).map((l) => (JSON.parse(l) as { body: string }).body);
    },
    async close() {
      await output.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
