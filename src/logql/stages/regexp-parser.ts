/**
 * @module `| regexp "(?P<name>re)"`: RE2, unanchored; each named group that takes part becomes a label
 * (a group that does not take part gives ""); a line that does not match is kept unchanged.
 */
import type RE2 from 're2';
import { LogPipelineCompileError } from './errors.js';
import { compileRe2 } from './line-filter.js';
import { isValidLabelName } from './sanitize.js';
import type { Stage } from './stage.js';

export function compileRegexpParser(source: string): Stage {
  // RE2 for JavaScript wants (?<name>); Go also accepts (?P<name>).
  const re: RE2 = compileRe2(source.replace(/\(\?P</g, '(?<'));
  const names: string[] = [];
  const seen = new Set<string>();
  for (const m of source.matchAll(/\(\?P?<([^>]*)>/g)) {
    const n = m[1] as string;
    if (!isValidLabelName(n)) throw new LogPipelineCompileError(`invalid extracted label name '${n}'`);
    if (seen.has(n)) throw new LogPipelineCompileError(`duplicate extracted label name '${n}'`);
    seen.add(n);
    names.push(n);
  }
  if (names.length === 0) throw new LogPipelineCompileError('at least one named capture must be supplied');
  return (st) => {
    const m = re.exec(st.line);
    if (!m) return true;
    const groups = m.groups;
    if (!groups) return true;
    for (const n of names) {
      st.setExtracted(st.extractedName(n), groups[n] ?? '');
    }
    return true;
  };
}
