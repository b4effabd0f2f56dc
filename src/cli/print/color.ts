/**
 * @module Colour, only where it helps: on a terminal, unless NO_COLOR is set or `--no-color` given;
 * `--color` (or FORCE_COLOR) asks for it anyway. Never when piped otherwise.
 */
import { styleText } from 'node:util';

type Format = Parameters<typeof styleText>[0];

export interface Palette {
  readonly enabled: boolean;
  paint(format: Format, text: string): string;
}

/** `flag` is commander's `--color`/`--no-color` value: undefined when neither was given. */
export function wantsColor(
  flag: boolean | undefined,
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (flag !== undefined) return flag;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export function palette(enabled: boolean): Palette {
  return {
    enabled,
    // validateStream off: whether to colour was decided above, for the stream actually written to.
    paint: (format, text) =>
      enabled && text !== '' ? styleText(format, text, { validateStream: false }) : text,
  };
}

/**
 * Colours for streams, as logcli picks them: bright enough on dark and light terminals, and not the
 * timestamp's blue. The same key always gets the same colour, in every run.
 */
const STREAM_COLORS: readonly Format[] = [
  'red',
  'green',
  'yellow',
  'magenta',
  'cyan',
  'redBright',
  'greenBright',
  'yellowBright',
  'magentaBright',
  'cyanBright',
];

/** The colour of a stream (or pod, or container), by an FNV-1a hash of its key. */
export function colorFor(key: string): Format {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return STREAM_COLORS[(h >>> 0) % STREAM_COLORS.length]!;
}
