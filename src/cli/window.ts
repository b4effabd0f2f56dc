/**
 * @module The one default time window of the reading commands and what they say when they find
 * nothing.
 *
 * The rule (README "Time windows", every command's `--help`): a reading command (`query`, `pods`,
 * `logs`, `events`, `audit`, `get`, `timeline`) reads the last 24 hours unless told otherwise:
 * `--since` moves the start, `--from`/`--to`/`--until` bound the range. 24 hours is the window a
 * `core.kjournal` list gets from the server without a time field selector (`--kube-list-window`),
 * so `kjournal get` and `kubectl get` show the same objects. `audit-policy test` alone reads a week:
 * a policy is judged on a representative sample.
 *
 * An empty result is said on stderr as kubectl says it ("No resources found" / "No resources found
 * in NS namespace."), followed by a hint when older data exists for the same selector: "no lines in
 * the last 24h; the newest is from 3d ago: use --since 4d".
 */
import { NS_PER_SECOND } from '../model/time.js';

/** The default `--since` of every reading command. */
export const DEFAULT_SINCE = '24h';
/** The default `--since` of `audit-policy test`. */
export const AUDIT_POLICY_SINCE = '7d';
/** The rule, for `--help`. */
export const WINDOW_HELP = `(default window of every reading command: the last ${DEFAULT_SINCE})`;

/** How far back the hint looks for older data: a year, the longest retention people commonly keep. */
export const HINT_LOOKBACK_NS = 366n * 86_400n * NS_PER_SECOND;

const MINUTE = 60n * NS_PER_SECOND;
const HOUR = 60n * MINUTE;
const DAY = 24n * HOUR;

/** The later of two times (Math.max takes no bigint). */
const later = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** kubectl's line for an empty list (kubectl get: "No resources found in shop namespace."). */
export function noneFound(namespace: string | undefined): void {
  process.stderr.write(
    namespace !== undefined ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n',
  );
}

/** The unit an age is said in: minutes under an hour, hours under two days, else days. */
function unitOf(ns: bigint): [bigint, string] {
  if (ns < HOUR) return [MINUTE, 'm'];
  if (ns < 2n * DAY) return [HOUR, 'h'];
  return [DAY, 'd'];
}

/** An age rounded down (`3d`); at least `1m`. */
export function ageText(ns: bigint): string {
  const [u, s] = unitOf(ns);
  const n = ns / u;
  return `${n < 1n ? 1n : n}${s}`;
}

/** A `--since` that surely reaches back `ns`: rounded up to the next whole unit (`3d 2h` → `4d`). */
export function sinceText(ns: bigint): string {
  const [u, s] = unitOf(ns);
  return `${ns / u + 1n}${s}`;
}

/**
 * The hint: `no WHAT in the last WINDOW; the newest [of OF] is from AGE ago: use --since SINCE`. The
 * newest item is at or after `newest.from` and before `newest.to` (the same time when it is known
 * exactly); `of` names what was probed when it is not the command's whole selection (a LogQL
 * query's stream selector).
 */
export function olderHint(
  what: string,
  windowNs: bigint,
  newest: { from: bigint; to: bigint },
  now: bigint,
  of?: string,
): string {
  return (
    `no ${what} in the last ${ageText(windowNs)}; the newest${of !== undefined ? ` of ${of}` : ''} is from ${ageText(now - newest.to)} ago: ` +
    `use --since ${sinceText(now - newest.from)}`
  );
}

/**
 * Where the newest item before `start` lies, with `exists(from, to)` saying whether any item of the
 * selector lies in [from, to): bands that double going back (the window again, twice it, ...) up to
 * `lookback`, then the first band with an item halved `rounds` times. Undefined when none was found.
 * For the kube lists, which are read oldest first and cannot be asked for their newest item.
 */
export async function findNewest(
  exists: (from: bigint, to: bigint) => Promise<boolean>,
  start: bigint,
  now: bigint,
  lookback: bigint = HINT_LOOKBACK_NS,
  rounds = 5,
): Promise<{ from: bigint; to: bigint } | undefined> {
  const window = now - start > MINUTE ? now - start : MINUTE;
  let to = start;
  let span = window;
  while (now - to < lookback) {
    const from = later(to - span, now - lookback);
    if (await exists(from, to)) {
      let lo = from;
      let hi = to;
      for (let i = 0; i < rounds && hi - lo > MINUTE; i++) {
        const mid = lo + (hi - lo) / 2n;
        if (await exists(mid, hi)) lo = mid;
        else hi = mid;
      }
      return { from: lo, to: hi };
    }
    to = from;
    span *= 2n;
  }
  return undefined;
}

/** Writes the hint on stderr; a probe that fails says nothing (the empty result was said already). */
export async function hintOlder(
  what: string,
  start: bigint,
  now: bigint,
  newest: () => Promise<{ from: bigint; to: bigint } | undefined>,
  of?: string,
): Promise<void> {
  let found: { from: bigint; to: bigint } | undefined;
  try {
    found = await newest();
  } catch {
    return;
  }
  if (found !== undefined) process.stderr.write(`${olderHint(what, now - start, found, now, of)}\n`);
}
