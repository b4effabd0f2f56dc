/**
 * @module The Output contract (src/pipeline/outputs/output.ts): every output runs this suite against a real
 * peer (a kjournal server, a local HTTP server speaking the peer's API, s3rver, a syslog socket...).
 * An output's test file calls `outputContract('loki', makeHarness)`; each test gets a fresh harness
 * and closes it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogRecord } from '../../../src/model/record.js';
import { type Output, OutputError } from '../../../src/pipeline/outputs/output.js';

export interface OutputHarness {
  readonly output: Output;
  /** The bodies the real peer got, in the order it got them. */
  received(): Promise<string[]>;
  /** Makes the peer unreachable (stops the server); the output must then fail with retryable errors. */
  stopPeer?(): Promise<void>;
  /** Brings the peer back at the same address. */
  startPeer?(): Promise<void>;
  /** Closes the output (if the test did not) and the peer, removes files. */
  close(): Promise<void>;
}

const NS_PER_MS = 1_000_000n;

/** Records with these bodies, one nanosecond apart (from `start`), as a flow hands them to an output. */
export function contractRecords(bodies: readonly string[], start?: bigint): LogRecord[] {
  const t0 = start ?? BigInt(Date.now() - 60_000) * NS_PER_MS;
  return bodies.map((body, i) => ({
    timestamp: t0 + BigInt(i) * 1000n + 123n,
    observedTimestamp: t0 + BigInt(i) * 1000n + 500n,
    labels: { kind: 'log', class: 'application', namespace: 'contract', app: 'kjournal-test' },
    attributes: { seq: String(i) },
    body,
  }));
}

/** A 100 KB line of printable ASCII, different on each call's `seed`. */
export function bigLine(seed: string): string {
  const unit = `${seed}:0123456789abcdefghijklmnopqrstuvwxyz `;
  return unit.repeat(Math.ceil(102_400 / unit.length)).slice(0, 102_400);
}

/** Bodies shown short, so a failing 100 KB line does not flood the report. */
function summary(bodies: readonly string[]): string[] {
  return bodies.map((b) => (b.length > 80 ? `${b.slice(0, 60)}... (${b.length} chars)` : b));
}

/** deepEqual of bodies, with a readable message when they differ. */
export function assertBodies(got: readonly string[], want: readonly string[]): void {
  const same = got.length === want.length && got.every((b, i) => b === want[i]);
  if (!same)
    assert.fail(
      `bodies differ:\n got: ${JSON.stringify(summary(got))}\nwant: ${JSON.stringify(summary(want))}`,
    );
}

async function withHarness(make: () => Promise<OutputHarness>, fn: (h: OutputHarness) => Promise<void>) {
  const h = await make();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

export function outputContract(name: string, makeHarness: () => Promise<OutputHarness>): void {
  describe(`Output contract: ${name}`, () => {
    test('a batch arrives in order with its bodies intact (unicode, a 100 KB line)', async () => {
      await withHarness(makeHarness, async (h) => {
        const bodies = [
          'first line',
          'unicode: héllo wörld — 日本語 ✓ 🚀',
          '{"level":"info","msg":"json \\"quoted\\" body","n":1}',
          bigLine('big'),
          'tab\tseparated\tand trailing space ',
          'last line',
        ];
        await h.output.send(contractRecords(bodies), AbortSignal.timeout(30_000));
        assertBodies(await h.received(), bodies);
      });
    });

    test('two batches arrive in the order they were sent', async () => {
      await withHarness(makeHarness, async (h) => {
        const t0 = BigInt(Date.now() - 60_000) * NS_PER_MS;
        await h.output.send(contractRecords(['a1', 'a2'], t0), AbortSignal.timeout(30_000));
        await h.output.send(contractRecords(['b1', 'b2'], t0 + 1_000_000n), AbortSignal.timeout(30_000));
        assertBodies(await h.received(), ['a1', 'a2', 'b1', 'b2']);
      });
    });

    test('an empty batch resolves without sending anything', async () => {
      await withHarness(makeHarness, async (h) => {
        await h.output.send([], AbortSignal.timeout(30_000));
        assertBodies(await h.received(), []);
      });
    });

    test('send with an aborted signal rejects', async () => {
      await withHarness(makeHarness, async (h) => {
        const controller = new AbortController();
        controller.abort(new Error('flow stopping'));
        await assert.rejects(h.output.send(contractRecords(['never']), controller.signal));
      });
    });

    test('a stopped peer is a retryable OutputError; the same batch succeeds once it is back', async () => {
      await withHarness(makeHarness, async (h) => {
        if (!h.stopPeer || !h.startPeer) return; // a peer that cannot be stopped (a local file)
        const batch = contractRecords(['while down 1', 'while down 2']);
        await h.stopPeer();
        await assert.rejects(h.output.send(batch, AbortSignal.timeout(30_000)), (err: unknown) => {
          assert.ok(err instanceof OutputError, `expected an OutputError, got ${String(err)}`);
          assert.equal(err.retryable, true, `expected retryable: ${err.message}`);
          return true;
        });
        await h.startPeer();
        await h.output.send(batch, AbortSignal.timeout(30_000));
        const got = await h.received();
        assertBodies(got.slice(-2), ['while down 1', 'while down 2']);
      });
    });

    test('close() is idempotent', async () => {
      await withHarness(makeHarness, async (h) => {
        await h.output.send(contractRecords(['before close']), AbortSignal.timeout(30_000));
        await h.output.close();
        await h.output.close();
        assertBodies(await h.received(), ['before close']);
      });
    });
  });
}
