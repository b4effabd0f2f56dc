/**
 * @module HEC's indexer acknowledgement (Splunk's "About HTTP Event Collector Indexer
 * Acknowledgment"): a request sent with a channel (`X-Splunk-Request-Channel` or `?channel=`) is
 * answered with an `ackId`, counting from 0 per channel; `POST /services/collector/ack` with
 * `{"acks": [ids]}` tells which are indexed. Here a request is answered only once its events are
 * durable, so every ackId given out is already true; an id never given out is false. Bounded:
 * at most `maxChannels` channels are remembered (the oldest forgotten first), as Splunk expires
 * idle channels.
 */
export class HecAcks {
  private readonly next = new Map<string, number>();

  constructor(private readonly maxChannels = 10_000) {}

  /** The ackId of a request of `channel` whose events are stored. */
  issue(channel: string): number {
    const id = this.next.get(channel) ?? 0;
    this.next.delete(channel);
    if (this.next.size >= this.maxChannels) this.next.delete(this.next.keys().next().value!);
    this.next.set(channel, id + 1);
    return id;
  }

  /** `{id: indexed}` for each id asked. */
  status(channel: string, ids: readonly number[]): Record<string, boolean> {
    const given = this.next.get(channel) ?? 0;
    const out: Record<string, boolean> = {};
    for (const id of ids) out[String(id)] = Number.isInteger(id) && id >= 0 && id < given;
    return out;
  }
}
