/**
 * @module The systemd journal source of `kjournal agent`: follows `journalctl -o export --follow`
 * (binary-safe, see export.ts), optionally over a `--directory` or `--file` and with journalctl's
 * field matches (`SYSLOG_IDENTIFIER=kata`, `_SYSTEMD_UNIT=containerd.service`, `+` for OR, as in
 * Kata's guide), and turns each entry into a `kind=log` record (records.ts).
 *
 * Position: one key, `journal`, holding `{cursor}` of the last entry handed over. On restart the
 * source runs `journalctl --cursor C` (not `--after-cursor`) and checks the first entry: if it is
 * the saved one, it is skipped; if it is another, the saved entry no longer exists (the journal
 * was rotated or vacuumed past it): that is reported as `cursor_lost` and reading goes on from
 * the entry journalctl found nearest after the cursor, which is kept. (`--after-cursor` would
 * silently drop that entry.) A cursor journalctl refuses outright ("Failed to seek to cursor") is
 * reported as `cursor_lost` too, and reading restarts with `--since` the cursor's own time (its
 * `t=` field), or from the oldest entry when the cursor carries no readable time.
 *
 * Back-pressure: journalctl's stdout is read with async iteration, so nothing more is read (and
 * journalctl blocks on its pipe) while `emit` is pending. A corrupt entry (broken framing, no
 * cursor, unreadable time) is reported as `corrupt_entry` and skipped. When journalctl exits on
 * its own (e.g. no journal files yet) it is restarted after a short delay from the last entry
 * handed over; the first such exit per distinct message is reported as `journalctl_exit`.
 */
import { spawn } from 'node:child_process';
import type { Labels, LogRecord } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import { sleep } from '../../util/sleep.js';
import type { Positions, Source, SourceContext } from '../source.js';
import { type ExportItem, ExportParser } from './export.js';
import { entryRecord } from './records.js';

export interface JournalSourceOptions {
  /** The node's name: the `node` label of every record. */
  readonly node: string;
  /** `journalctl --directory` (default: the system journal). */
  readonly directory?: string;
  /** `journalctl --file` (a glob is allowed); with `directory`, both are passed. */
  readonly file?: string;
  /** journalctl matches: `FIELD=value` or `+` (OR). */
  readonly matches?: readonly string[];
  /** The journalctl binary (default `journalctl` on the PATH). */
  readonly journalctl?: string;
  /** The source name (default `journal`). */
  readonly name?: string;
  /** Delay before restarting a journalctl that exited on its own (default 250 ms). */
  readonly restartDelayMs?: number;
}

export const JOURNAL_POSITION_KEY = 'journal';

const MATCH = /^(?:\+|[A-Z0-9_]+=.*)$/s;
const MAX_BATCH = 1000;

interface CursorParts {
  readonly s?: string;
  readonly i?: string;
  readonly t?: string;
}

function cursorParts(cursor: string): CursorParts {
  const out: Record<string, string> = {};
  for (const part of cursor.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Same entry: same sequence-number id and sequence number (else the whole text). */
export function sameCursor(a: string, b: string): boolean {
  if (a === b) return true;
  const pa = cursorParts(a);
  const pb = cursorParts(b);
  return pa.s !== undefined && pa.i !== undefined && pa.s === pb.s && pa.i === pb.i;
}

/** `--since` argument for a cursor's `t=` (µs, hex); undefined when it has none. */
export function sinceOfCursor(cursor: string): string | undefined {
  const t = cursorParts(cursor).t;
  if (t === undefined || !/^[0-9a-f]{1,16}$/i.test(t)) return undefined;
  const us = BigInt(`0x${t}`);
  return `@${us / 1_000_000n}.${(us % 1_000_000n).toString().padStart(6, '0')}`;
}

function savedCursor(positions: Positions): string | undefined {
  const p = positions[JOURNAL_POSITION_KEY];
  if (p !== null && typeof p === 'object' && typeof (p as { cursor?: unknown }).cursor === 'string') {
    return (p as { cursor: string }).cursor;
  }
  return undefined;
}

export function createJournalSource(opts: JournalSourceOptions): Source {
  for (const m of opts.matches ?? []) {
    if (!MATCH.test(m)) throw new Error(`journal match "${m}": expected FIELD=value or +`);
  }
  const name = opts.name ?? 'journal';
  const labels: Labels = { kind: 'log', source: 'journal', node: opts.node };
  const journalctl = opts.journalctl ?? 'journalctl';
  const restartDelay = opts.restartDelayMs ?? 250;

  return {
    name,
    async run(ctx: SourceContext): Promise<void> {
      /** The last entry handed over (or saved). */
      let cursor = savedCursor(ctx.positions);
      /** Set once journalctl refused `cursor`: restart with `--since` instead. */
      let cursorRefused = false;
      const reportedExits = new Set<string>();

      while (!ctx.signal.aborted) {
        const args = ['-o', 'export', '--follow', '--no-tail', '--all', '--quiet', '--no-pager'];
        if (opts.directory !== undefined) args.push('--directory', opts.directory);
        if (opts.file !== undefined) args.push('--file', opts.file);
        let expectFirst: string | undefined;
        let usedCursor = false;
        if (cursor !== undefined && !cursorRefused) {
          args.push('--cursor', cursor);
          expectFirst = cursor;
          usedCursor = true;
        } else if (cursor !== undefined) {
          const since = sinceOfCursor(cursor);
          if (since !== undefined) args.push('--since', since);
        }
        args.push(...(opts.matches ?? []));

        const child = spawn(journalctl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let spawnError: Error | undefined;
        child.on('error', (err) => {
          spawnError = err;
        });
        const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        let stderr = '';
        child.stderr.setEncoding('utf8');
        child.stderr.on('data', (s: string) => {
          if (stderr.length < 4096) stderr += s;
        });
        const kill = () => child.kill('SIGTERM');
        ctx.signal.addEventListener('abort', kill, { once: true });

        const parser = new ExportParser();
        let sawEntry = false;
        const handle = async (items: ExportItem[]): Promise<void> => {
          const records: LogRecord[] = [];
          let last: string | undefined;
          const observed = nowNs();
          for (const item of items) {
            if ('corrupt' in item) {
              ctx.problem({
                reason: 'corrupt_entry',
                message: `journal: corrupt entry skipped: ${item.corrupt}`,
              });
              continue;
            }
            const c = item.entry.get('__CURSOR');
            const rec = c === undefined ? undefined : entryRecord(item.entry, { labels, observed });
            if (c === undefined || rec === undefined) {
              ctx.problem({
                reason: 'corrupt_entry',
                message: `journal: entry without ${c === undefined ? '__CURSOR' : 'a readable __REALTIME_TIMESTAMP'} skipped`,
              });
              continue;
            }
            if (expectFirst !== undefined) {
              const expected = expectFirst;
              expectFirst = undefined;
              if (sameCursor(c, expected)) continue;
              ctx.problem({
                reason: 'cursor_lost',
                message: `journal: saved cursor ${expected} no longer exists; reading on from the next entry (${c})`,
              });
            }
            sawEntry = true;
            records.push(rec);
            last = c;
            if (records.length >= MAX_BATCH) {
              await ctx.emit({
                records: records.splice(0),
                positions: { [JOURNAL_POSITION_KEY]: { cursor: last } },
              });
              cursor = last;
              cursorRefused = false;
            }
          }
          if (records.length > 0 && last !== undefined) {
            await ctx.emit({ records, positions: { [JOURNAL_POSITION_KEY]: { cursor: last } } });
            cursor = last;
            cursorRefused = false;
          }
        };

        try {
          for await (const chunk of child.stdout) {
            await handle(parser.push(chunk as Buffer));
          }
          if (!ctx.signal.aborted) await handle(parser.end());
        } finally {
          ctx.signal.removeEventListener('abort', kill);
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        }
        const code = await exited;
        if (spawnError !== undefined)
          throw new Error(`journal: cannot run ${journalctl}: ${spawnError.message}`);
        if (ctx.signal.aborted) break;

        const msg = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
        if (usedCursor && !sawEntry && /cursor/i.test(stderr)) {
          cursorRefused = true;
          const since = cursor === undefined ? undefined : sinceOfCursor(cursor);
          ctx.problem({
            reason: 'cursor_lost',
            message: `journal: journalctl refused the saved cursor (${msg}); reading from ${since === undefined ? 'the oldest entry' : `--since ${since}`}`,
          });
          continue;
        }
        const key = `${code}: ${msg}`;
        if (!reportedExits.has(key)) {
          reportedExits.add(key);
          ctx.problem({
            reason: 'journalctl_exit',
            message: `journal: journalctl exited with ${code}${msg ? `: ${msg}` : ''}; restarting`,
          });
        }
        await sleep(restartDelay, ctx.signal);
      }
    },
  };
}
