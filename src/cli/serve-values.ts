/**
 * @module The value rule of each `kjournal serve` flag, by commander's attribute name. `serve` reads
 * its flags through `serveValue` and checks a configuration file's keys with the same rules
 * (serve-file.ts), so `serve` and `kjournal config check` cannot judge a value differently.
 *
 * A flag added later gets its key in the file by itself (the keys are derived from commander's
 * options); its value is checked here when it has a rule in `SERVE_VALUE_RULES`, or by commander's
 * own `.choices()` or argument parser, which the file's reader applies as well.
 */
import type { Command } from 'commander';
import { CliError } from './errors.js';
import {
  boolean,
  duration,
  flagOf,
  httpUrl,
  identifier,
  listenAddress,
  minFreeDisk,
  nonNegativeInteger,
  positiveDuration,
  positiveInteger,
  size,
  sizeAtLeast,
  ValueError,
  type ValueRule,
} from './flag-values.js';

export const SERVE_VALUE_RULES = {
  listen: listenAddress,
  retention: duration,
  deleteRequestCancelPeriod: duration,
  maxLineSize: size,
  rejectOldSamplesMaxAge: duration,
  creationGracePeriod: duration,
  maxBodySize: size,
  maxPushEntries: positiveInteger,
  httpReadTimeout: positiveDuration,
  maxEntriesLimit: positiveInteger,
  queryTimeout: positiveDuration,
  maxQuerySeries: positiveInteger,
  maxQueryLength: duration,
  maxQueryRange: duration,
  queryMemoryLimit: sizeAtLeast(16 << 20, '16MiB'),
  maxConcurrentQueries: positiveInteger,
  maxQueuedQueries: nonNegativeInteger,
  tailBufferSize: sizeAtLeast(64 << 10, '64KiB'),
  maxConcurrentTailRequests: nonNegativeInteger,
  kubeListWindow: positiveDuration,
  kubeListMaxItems: nonNegativeInteger,
  minFreeDisk,
  ui: boolean,
  forwardListen: listenAddress,
  forwardMaxMessageSize: size,
  syslogTcp: listenAddress,
  syslogUdp: listenAddress,
  syslogTls: listenAddress,
  gelfUdp: listenAddress,
  gelfTcp: listenAddress,
  gelfMaxMessageSize: size,
  decodeWorkers: nonNegativeInteger,
  authenticationTokenWebhookCacheTtl: duration,
  authorizationWebhookCacheAuthorizedTtl: duration,
  authorizationWebhookCacheUnauthorizedTtl: duration,
  clickhouseUrl: httpUrl,
  clickhouseDatabase: identifier,
  clickhouseCluster: identifier,
} satisfies Record<string, ValueRule<unknown>>;

export type ServeValueKey = keyof typeof SERVE_VALUE_RULES;
type ValueOf<K extends ServeValueKey> = ReturnType<(typeof SERVE_VALUE_RULES)[K]>;

/** The rule of a flag's attribute (none: any string the flag takes). */
export function serveValueRule(attribute: string): ValueRule<unknown> | undefined {
  return Object.hasOwn(SERVE_VALUE_RULES, attribute)
    ? SERVE_VALUE_RULES[attribute as ServeValueKey]
    : undefined;
}

/** The value of one flag (undefined when unset); a CliError `--flag reason` (exit 2) when refused. */
export function serveValue<K extends ServeValueKey>(flags: object, key: K): ValueOf<K> | undefined {
  const text = (flags as Readonly<Record<string, unknown>>)[key];
  if (text === undefined) return undefined;
  try {
    return SERVE_VALUE_RULES[key](String(text)) as ValueOf<K>;
  } catch (err) {
    if (err instanceof ValueError) throw new CliError(`${flagOf(key)} ${err.message}`, 2);
    throw err;
  }
}

/** `serveValue` of a flag with a default (commander always gives it a value). */
export function serveValueOrDefault<K extends ServeValueKey>(flags: object, key: K): ValueOf<K> {
  const v = serveValue(flags, key);
  if (v === undefined) throw new CliError(`${flagOf(key)} has no value`, 2);
  return v;
}

/**
 * Every refused value among the options that did not come from the configuration file (the
 * command line, the environment, a default), as `--flag reason` lines: all at once, as the file's.
 */
export function flagValueErrors(cmd: Command): string[] {
  const errors: string[] = [];
  const opts = cmd.opts() as Record<string, unknown>;
  const seen = new Set<string>();
  for (const option of cmd.options) {
    const key = option.attributeName();
    if (seen.has(key) || cmd.getOptionValueSource(key) === 'config') continue;
    seen.add(key);
    const rule = serveValueRule(key);
    const text = opts[key];
    if (rule === undefined || text === undefined) continue;
    try {
      rule(String(text));
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      errors.push(`${option.long ?? flagOf(key)} ${err.message}`);
    }
  }
  return errors;
}
