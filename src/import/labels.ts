/** @module `--labels k=v,...`: extra stream labels, checked as Loki checks label names. */
import type { Labels } from '../model/record.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses `k=v,k2=v2`; throws an Error saying which pair is wrong. */
export function parseLabelList(text: string): Labels {
  const out: Labels = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`"${pair}" is not name=value`);
    const name = pair.slice(0, eq).trim();
    if (!NAME.test(name)) throw new Error(`"${name}" is not a valid label name ([A-Za-z_][A-Za-z0-9_]*)`);
    out[name] = pair.slice(eq + 1).trim();
  }
  return out;
}
