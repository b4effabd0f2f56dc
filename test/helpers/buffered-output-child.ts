/**
 * @module Run as a child process by test/pipeline/outputs/buffered-kill.test.ts: a BufferedOutput
 * with its buffer in argv[2] whose peer takes the first argv[4] batches (appending their bodies to
 * the file argv[3]) and is down after that. Enqueues records `r0`, `r1`... in groups of 7 and
 * prints, after each group is fsynced, `durable N` (N records so far) on stdout, and `down` once
 * the peer is down. Meant to be killed with SIGKILL.
 */
import { appendFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import type { LogRecord } from '../../src/model/record.js';
import { BufferedOutput } from '../../src/pipeline/outputs/buffered.js';
import { type Output, OutputError } from '../../src/pipeline/outputs/output.js';

const [dir, sentFile, upBatches] = process.argv.slice(2) as [string, string, string];
let batches = 0;
let down = false;
const output: Output = {
  name: 'killme',
  type: 'test',
  async send(records: readonly LogRecord[]): Promise<void> {
    if (batches >= Number(upBatches)) {
      // Once: the test kills only after this, so that the peer has surely taken its batches.
      if (!down) process.stdout.write('down\n');
      down = true;
      throw new OutputError('connection refused', true);
    }
    batches++;
    appendFileSync(sentFile, records.map((r) => `${r.body}\n`).join(''));
  },
  async close(): Promise<void> {},
};
const b = await BufferedOutput.open({
  output,
  dir,
  maxBytes: 64 << 20,
  batch: { maxRecords: 10, maxBytes: 1 << 20, maxWaitMs: 5 },
  retry: { minBackoffMs: 5, maxBackoffMs: 20 },
  registry: new Registry(),
  log: () => undefined,
});
let n = 0;
for (;;) {
  const group: LogRecord[] = [];
  for (let i = 0; i < 7; i++, n++) {
    const t = 1_700_000_000_000_000_000n + BigInt(n);
    group.push({
      timestamp: t,
      observedTimestamp: t,
      labels: { kind: 'log', class: 'application' },
      attributes: {},
      body: `r${n}`,
    });
  }
  await b.enqueue(group);
  process.stdout.write(`durable ${n}\n`);
}
