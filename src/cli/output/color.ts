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
