/**
 * Deadlines that survive garbage collection (src/util/timeout-signal.ts). Node 20's
 * `AbortSignal.any` holds its sources weakly and `AbortSignal.timeout`'s timer holds its signal
 * weakly: a query deadline built as `AbortSignal.any([AbortSignal.timeout(ms), …])` was collected
 * under a loaded test run and never fired (a 1 s `--query-timeout` answered 200 after 4.7 s). The
 * tests force collections while the deadline runs.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { admitted } from '../../src/api/http/admit.js';
import type { RequestContext } from '../../src/api/http/router.js';
import { QueryAdmission } from '../../src/query/admission.js';
import { timeoutSignal } from '../../src/util/timeout-signal.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects garbage a few times over `ms`. */
async function collecting(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('inside AbortSignal.any, with collections meanwhile: it fires, with a TimeoutError', async () => {
  // Only the combined signal is held, as a request's handlers hold it.
  const combined = AbortSignal.any([timeoutSignal(150).signal, new AbortController().signal]);
  await collecting(500);
  assert.equal(combined.aborted, true);
  assert.equal((combined.reason as DOMException).name, 'TimeoutError');
});

test('cleared: it does not fire', async () => {
  const t = timeoutSignal(50);
  t.clear();
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(t.signal.aborted, false);
});

test("a query's deadline (admitted) fires under collections: the handler sees its signal abort", async () => {
  const admission = new QueryAdmission({ maxConcurrent: 4, maxQueued: 4 });
  const handler = admitted(admission, 200, async (ctx) => {
    const started = Date.now();
    const signal = ctx.signal!;
    await new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      setTimeout(resolve, 3000).unref();
    });
    return {
      status: 200,
      body: `${signal.aborted ? 'aborted' : 'not aborted'} after ${Date.now() - started} ms`,
    };
  });
  const req = { headers: {}, socket: new EventEmitter() } as unknown as IncomingMessage;
  const answer = handler({ req } as unknown as RequestContext);
  await collecting(600);
  const r = (await answer) as { body: string };
  assert.match(r.body, /^aborted after \d+ ms$/);
  assert.ok(Number(/(\d+) ms/.exec(r.body)![1]) < 1000, r.body);
});
