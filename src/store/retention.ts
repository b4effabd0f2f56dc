/**
 * @module Each stream's cutoff under a retention policy, for every backend: Loki's
 * `retention_stream` rule, of the rules a stream matches the highest priority applies, and of
 * equal priorities the shortest period; a stream no rule matches keeps the global period; a
 * stream kept for ever is left out.
 */
import { compileMatchers } from './matchers.js';
import type { RetentionPolicy, StreamRef } from './store.js';

export function streamCutoffs(
  streams: Iterable<StreamRef>,
  now: bigint,
  policy: RetentionPolicy,
): Map<StreamRef, { cutoff: bigint; rule: number }> {
  const rules = policy.rules.map((r) => ({ ...r, match: compileMatchers(r.matchers) }));
  const out = new Map<StreamRef, { cutoff: bigint; rule: number }>();
  for (const stream of streams) {
    let chosen = -1;
    rules.forEach((r, i) => {
      if (!r.match(stream.labels)) return;
      const c = chosen >= 0 ? rules[chosen]! : undefined;
      if (!c || r.priority > c.priority || (r.priority === c.priority && r.period < c.period)) chosen = i;
    });
    const period = chosen >= 0 ? rules[chosen]!.period : policy.period;
    if (period !== undefined) out.set(stream, { cutoff: now - period, rule: chosen });
  }
  return out;
}
