/**
 * @module Entries into push requests: grouped by stream, cut at ~1 MB or N lines, sent one at a time
 * while the next batch fills (one in flight: a stream's batches then reach the server in order).
 * What the server says became of each push's entries (stored, duplicate, refused by reason) is
 * added up for the summary.
 */
import type { PushOutcome, PushStream, PushValue } from '../client/client.js';
import type { Attributes, Labels } from '../model/record.js';

export interface Pusher {
  push(streams: readonly PushStream[]): Promise<PushOutcome>;
}

interface Stream {
  readonly stream: Labels;
  readonly values: PushValue[];
}

/** Per-entry overhead in the JSON: timestamp, quotes, brackets. */
const ENTRY_OVERHEAD = 32;

export class Batcher {
  private readonly pusher: Pusher;
  private readonly extra: Labels;
  private readonly maxLines: number;
  private readonly maxBytes: number;
  private readonly merged = new WeakMap<Labels, { key: string; labels: Labels }>();
  private readonly attrSize = new WeakMap<Attributes, number>();
  private current = new Map<string, Stream>();
  private lines = 0;
  private bytes = 0;
  private readonly ready: Map<string, Stream>[] = [];
  private inflight: Promise<void> | undefined;
  /** Entries handed to the server and answered. */
  acknowledged = 0;
  batches = 0;
  /** Entries the server stored. */
  stored = 0;
  /** Entries the server already had (identical stream, time and line). */
  duplicates = 0;
  /** Entries the server refused, by reason. */
  readonly refused: Record<string, number> = {};
  /** True once a count was estimated from a plain Loki's messages. */
  estimated = false;
  /** Told of each push the server answered with refusals. */
  onRefused: ((outcome: PushOutcome) => void) | undefined;

  constructor(pusher: Pusher, extraLabels: Labels, maxLines: number, maxBytes: number) {
    this.pusher = pusher;
    this.extra = extraLabels;
    this.maxLines = Math.max(1, maxLines);
    this.maxBytes = Math.max(1, maxBytes);
  }

  /** `--labels` win over what the file says: they are the user's explicit word. */
  private streamOf(labels: Labels): { key: string; labels: Labels } {
    let m = this.merged.get(labels);
    if (m === undefined) {
      const all = { ...labels, ...this.extra };
      const key = JSON.stringify(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      m = { key, labels: all };
      this.merged.set(labels, m);
    }
    return m;
  }

  private sizeOf(attributes: Attributes): number {
    let n = this.attrSize.get(attributes);
    if (n === undefined) {
      n = 0;
      for (const [k, v] of Object.entries(attributes)) n += k.length + v.length + 6;
      this.attrSize.set(attributes, n);
    }
    return n;
  }

  add(labels: Labels, ts: bigint, line: string, attributes?: Attributes): void {
    const { key, labels: merged } = this.streamOf(labels);
    let s = this.current.get(key);
    if (s === undefined) {
      s = { stream: merged, values: [] };
      this.current.set(key, s);
    }
    const attrBytes = attributes === undefined ? 0 : this.sizeOf(attributes);
    s.values.push(attrBytes > 0 && attributes ? [ts.toString(), line, attributes] : [ts.toString(), line]);
    this.lines++;
    this.bytes += line.length + attrBytes + ENTRY_OVERHEAD;
    if (this.lines >= this.maxLines || this.bytes >= this.maxBytes) this.seal();
  }

  private seal(): void {
    if (this.lines === 0) return;
    this.ready.push(this.current);
    this.current = new Map();
    this.lines = 0;
    this.bytes = 0;
  }

  get hasReady(): boolean {
    return this.ready.length > 0;
  }

  /** Sends sealed batches; returns once the last one is in flight. Throws the first push error. */
  async sendReady(): Promise<void> {
    for (let batch = this.ready.shift(); batch !== undefined; batch = this.ready.shift()) {
      if (this.inflight) await this.inflight;
      const streams = [...batch.values()];
      const count = streams.reduce((n, s) => n + s.values.length, 0);
      const p = this.pusher.push(streams).then((outcome) => {
        this.acknowledged += count;
        this.batches++;
        this.stored += outcome.stored;
        this.duplicates += outcome.duplicates;
        let refused = false;
        for (const [reason, n] of Object.entries(outcome.refused)) {
          this.refused[reason] = (this.refused[reason] ?? 0) + n;
          refused ||= n > 0;
        }
        this.estimated ||= outcome.estimated;
        if (refused) this.onRefused?.(outcome);
      });
      // Observed now so a failure is never "unhandled"; it is rethrown at the next await.
      p.catch(() => {});
      this.inflight = p;
    }
  }

  /** Seals and sends what is left, and waits for every push. */
  async finish(): Promise<void> {
    this.seal();
    await this.sendReady();
    if (this.inflight) await this.inflight;
  }
}
