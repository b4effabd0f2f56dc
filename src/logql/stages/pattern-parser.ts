/** @module `| pattern "<ip> - <_> <method>"`: named captures become labels. */
import { LogPipelineCompileError } from './errors.js';
import { compilePattern } from './pattern.js';
import { isValidLabelName } from './sanitize.js';
import type { Stage } from './stage.js';

export function compilePatternParser(source: string): Stage {
  const p = compilePattern(source, false);
  for (const n of p.names) {
    if (!isValidLabelName(n)) throw new LogPipelineCompileError(`invalid capture label name '${n}'`);
  }
  const names = p.names;
  return (st) => {
    const m = p.matches(st.line);
    for (let i = 0; i < m.length; i++) {
      const n = names[i] as string;
      st.setExtracted(st.extractedName(n), m[i] as string);
    }
    return true;
  };
}
