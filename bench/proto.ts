/**
 * @module Push bodies for the bench: a batch of generated records grouped by stream, as promtail
 * groups them, encoded as Loki's logproto.PushRequest by the server's own encoder and
 * snappy-compressed (block format), as Loki clients send it.
 */
import { compressSync } from 'snappy';
import { type EncodableStream, encodePushRequest } from '../src/formats/loki-push/proto.js';
import type { PushEntry } from '../src/formats/loki-push/types.js';
import type { GenRecord } from './generate.js';

/** Groups a batch by stream, keeping each stream's entries in time order. */
export function groupByStream(batch: readonly GenRecord[]): EncodableStream[] {
  const byKey = new Map<string, PushEntry[]>();
  for (const r of batch) {
    let entries = byKey.get(r.stream.key);
    if (!entries) {
      entries = [];
      byKey.set(r.stream.key, entries);
    }
    entries.push({ timestamp: r.ts, line: r.line });
  }
  return [...byKey].map(([labels, entries]) => ({ labels, entries }));
}

/** The body of `POST /loki/api/v1/push` for a batch: protobuf, snappy block-compressed. */
export function pushBody(batch: readonly GenRecord[]): Buffer {
  return compressSync(encodePushRequest(groupByStream(batch)));
}
