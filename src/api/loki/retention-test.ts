/**
 * @module `/api/v1/retention/test`: what a retention policy would remove from the tenant now, per
 * rule, without removing anything (`kjournal retention test`). GET reports the server's own policy;
 * POST one given in the body (JSON or YAML, the serve file's `retention` and `retentionStream`).
 * Answers `{"rules": [{rule, selector, period, priority, streams, entries, bytes}]}`, `rule` -1 being
 * the streams no rule applies to (the global period). Needs `list` on every resource, cluster-wide:
 * it counts what every stream of the tenant holds.
 */
import { parse as parseYaml } from 'yaml';
import {
  parseRetentionPolicy,
  RetentionConfigError,
  type RetentionPolicy,
} from '../../lifecycle/retention-rules.js';
import { formatMatchers } from '../../logql/format.js';
import { nowNs } from '../../model/time.js';
import type { Queries } from '../../query/queries.js';
import { readBody } from '../http/body.js';
import { badRequest } from '../http/errors.js';
import { type Handler, json } from '../http/router.js';

export interface RetentionTestOptions {
  /** The query operations on the store (src/query/queries.ts). */
  readonly queries: Queries;
  readonly policy: RetentionPolicy;
  readonly now?: () => bigint;
}

const DAY = 86_400_000_000_000n;

/** A period as a duration text: whole days or hours where it divides. */
function durationText(ns: bigint): string {
  if (ns % DAY === 0n) return `${ns / DAY}d`;
  if (ns % 3_600_000_000_000n === 0n) return `${ns / 3_600_000_000_000n}h`;
  return `${ns / 1_000_000_000n}s`;
}

export function retentionTestHandler(opts: RetentionTestOptions): Handler {
  const now = opts.now ?? nowNs;
  return async ({ req, access }) => {
    await access.require(
      ['containerlogs', 'events', 'auditevents', 'logs'].map((resource) => ({
        verb: 'list',
        resource,
        namespace: '',
      })),
    );
    let policy = opts.policy;
    if (req.method === 'POST') {
      const text = (await readBody(req, 1 << 20)).toString('utf8');
      let doc: unknown;
      try {
        doc = parseYaml(text);
      } catch (err) {
        throw badRequest(`the policy is not YAML or JSON: ${(err as Error).message}`);
      }
      if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
        throw badRequest('the policy must be an object with retention and retentionStream');
      }
      try {
        policy = parseRetentionPolicy(doc as Record<string, unknown>);
      } catch (err) {
        if (err instanceof RetentionConfigError) throw badRequest(err.message);
        throw err;
      }
    }
    const report = await opts.queries.retentionReport(access.tenant, now(), policy);
    return json(200, {
      rules: report.map((r) => {
        const rule = r.rule >= 0 ? policy.rules[r.rule] : undefined;
        const period = rule ? rule.period : policy.period;
        return {
          rule: r.rule,
          selector: rule ? `{${formatMatchers(rule.matchers)}}` : null,
          period: period === undefined ? null : durationText(period),
          priority: rule ? rule.priority : null,
          streams: r.streams,
          entries: r.entries,
          bytes: r.bytes,
        };
      }),
    });
  };
}
