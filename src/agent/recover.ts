/**
 * @module Closing the one duplicate window after a crash. A push the server stored and answered,
 * but whose ack the agent had not yet committed (killed between the 2xx and the positions write),
 * is still in the buffer at the next start. Only batches near the head can be in that state (a few
 * pushes are in flight at once, from the head), so at start, before pushing anything, the shipper
 * asks the server whether the head batches are already stored, through the Loki query API the
 * server also serves: for each stream of a batch, `query_range` over exactly the batch's time span,
 * and every entry (timestamp and line, with multiplicity) must be there. Batches found are not sent
 * again (their positions are committed in buffer order); checking stops after a run of batches not
 * (entirely) found (shipper.ts).
 *
 * When the server has no query API (a bare Loki push endpoint, an authorization that forbids reads)
 * the answer is "unknown" and the batch is pushed again: at least once, as before.
 */
import type { KjournalClient } from '../client/client.js';
import { decodePushRequest } from '../formats/loki-push/proto.js';

const QUERY_PATH = '/loki/api/v1/query_range';
const MAX_ENTRIES = 5000;

/** Thrown when the server could not be asked (unreachable, 5xx, 429): worth trying again. */
export class RecoverUnavailableError extends Error {
  override readonly name = 'RecoverUnavailableError';
}

interface QueryResponse {
  data?: { result?: { values?: [string, string, ...unknown[]][] }[] };
}

/**
 * True when every entry of `body` (an uncompressed PushRequest) is stored on the server, false when
 * some is not or the server cannot tell (no query API: 4xx). Throws RecoverUnavailableError when
 * the server could not answer now.
 */
export async function alreadyStored(client: KjournalClient, body: Uint8Array): Promise<boolean> {
  const streams = decodePushRequest(body);
  for (const s of streams) {
    if (s.entries.length === 0) continue;
    if (s.entries.length > MAX_ENTRIES) return false;
    let min = s.entries[0]!.timestamp;
    let max = min;
    const want = new Map<string, number>();
    for (const e of s.entries) {
      if (e.timestamp < min) min = e.timestamp;
      if (e.timestamp > max) max = e.timestamp;
      const k = `${e.timestamp}\n${e.line}`;
      want.set(k, (want.get(k) ?? 0) + 1);
    }
    let res: Awaited<ReturnType<KjournalClient['request']>>;
    try {
      res = await client.request('GET', QUERY_PATH, {
        query: {
          query: s.labelsText,
          start: String(min),
          end: String(max + 1n),
          limit: MAX_ENTRIES,
          direction: 'forward',
        },
      });
    } catch (err) {
      throw new RecoverUnavailableError((err as Error).message);
    }
    if (res.status === 429 || res.status >= 500) throw new RecoverUnavailableError(`HTTP ${res.status}`);
    if (res.status !== 200) return false;
    let parsed: QueryResponse;
    try {
      parsed = JSON.parse(res.body.toString('utf8')) as QueryResponse;
    } catch {
      return false;
    }
    for (const r of parsed.data?.result ?? []) {
      for (const v of r.values ?? []) {
        const k = `${v[0]}\n${v[1]}`;
        const n = want.get(k);
        if (n === undefined) continue;
        if (n <= 1) want.delete(k);
        else want.set(k, n - 1);
      }
    }
    if (want.size > 0) return false;
  }
  return true;
}
