/** @module `| decolorize`: strips ANSI colour sequences with Loki's (stripansi) expression. */
import type { Stage } from './stage.js';

const ESC = String.fromCharCode(0x1b);
const CSI = String.fromCharCode(0x9b);
const BEL = String.fromCharCode(0x07);
const ANSI = new RegExp(
  `[${ESC}${CSI}][[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[a-zA-Z\\d]*)*)?${BEL})|(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PRZcf-ntqry=><~]))`,
  'g',
);

export function decolorize(line: string): string {
  if (line.indexOf(ESC) === -1 && line.indexOf(CSI) === -1) return line;
  return line.replace(ANSI, '');
}

export const decolorizeStage: Stage = (st) => {
  st.line = decolorize(st.line);
  return true;
};
