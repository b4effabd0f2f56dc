/**
 * @module `| drop` and `| keep`, as Loki: `drop __error__` clears the error; `keep` never removes the
 * error labels; a selector with a matcher applies only when the value matches.
 */
import type { DropStage, KeepStage } from '../ast.js';
import { ERROR_DETAILS_LABEL, ERROR_LABEL } from './errors.js';
import { compileStringMatcher, type StringTest } from './label-filter.js';
import type { Stage } from './stage.js';

interface Sel {
  readonly name: string;
  readonly test: StringTest | undefined;
}

function selectors(stage: DropStage | KeepStage): Sel[] {
  return stage.labels.map((l) => ({
    name: l.name,
    test: l.matcher ? compileStringMatcher(l.matcher.op, l.matcher.value) : undefined,
  }));
}

export function compileDrop(stage: DropStage): Stage {
  const sels = selectors(stage);
  return (st) => {
    for (const s of sels) {
      if (s.name === ERROR_LABEL) {
        if (!s.test || s.test(st.err)) st.err = '';
        continue;
      }
      if (s.name === ERROR_DETAILS_LABEL) {
        if (!s.test || s.test(st.errDetails)) st.errDetails = '';
        continue;
      }
      if (!s.test) {
        st.del(s.name);
        continue;
      }
      if (s.test(st.get(s.name) ?? '')) st.del(s.name);
    }
    return true;
  };
}

export function compileKeep(stage: KeepStage): Stage {
  const sels = selectors(stage);
  if (sels.length === 0) return () => true;
  return (st) => {
    for (const name of st.names()) {
      if (name === ERROR_LABEL || name === ERROR_DETAILS_LABEL || name === '__preserve_error__') continue;
      const value = st.get(name) ?? '';
      let keep = false;
      for (const s of sels) {
        if (s.name !== name) continue;
        if (!s.test || s.test(value)) {
          keep = true;
          break;
        }
      }
      if (!keep) st.del(name);
    }
    return true;
  };
}
