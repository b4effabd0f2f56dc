import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatBytes, formatSeconds, Progress } from '../../src/import/progress.js';
import { formatSummary } from '../../src/import/run.js';

describe('progress', () => {
  it('prints plain progress lines every few seconds when not on a terminal', async () => {
    let out = '';
    const p = new Progress({ write: (t: string) => (out += t) }, 2_000_000, 'plain', 20);
    p.update(1_000_000, 1234);
    await sleep(70);
    p.log('a note');
    p.stop();
    const lines = out.trim().split('\n');
    assert.ok(lines.length >= 2, out);
    assert.match(lines[0]!, /^import: 50% 1\.0\/2\.0 MB, 1234 lines, [\d.]+ MB\/s, ETA \d+s$/);
    assert.equal(lines.at(-1), 'a note');
    const settled = out;
    await sleep(50);
    assert.equal(out, settled, 'stop() ends the timer');
  });

  it('formats sizes, durations and the summary', () => {
    assert.equal(formatBytes(3100), '3.1 kB');
    assert.equal(formatBytes(249_300_000), '249.3 MB');
    assert.equal(formatBytes(12_345_000_000), '12.35 GB');
    assert.equal(formatSeconds(42.4), '42s');
    assert.equal(formatSeconds(125), '2m05s');
    assert.equal(formatSeconds(7300), '2h01m');
    assert.equal(
      formatSummary({
        files: 1,
        unreadableFiles: 0,
        lines: 100,
        entries: 98,
        sent: 98,
        stored: 94,
        duplicates: 1,
        refused: { too_old: 2, too_new: 1 },
        bytes: 5000,
        malformed: 2,
        untimed: 3,
        missingTime: 'mtime',
        estimated: false,
        seconds: 0.5,
      }),
      "imported 1 file: 100 lines, 98 entries sent: 94 stored, 1 duplicate, 3 refused (too_new=1, too_old=2); 2 malformed, 3 without a time (given the file's modification time); 5.0 kB, 0.5s, 200 lines/s",
    );
  });
});
