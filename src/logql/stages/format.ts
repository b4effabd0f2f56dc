/**
 * @module `| line_format` and `| label_format`, as Loki's fmt.go: a template error keeps the line
 * (or the label) unchanged and sets `__error__="TemplateFormatErr"` and its details; label_format's
 * templates all see the labels as they were before the first template of the stage ran; a rename
 * keeps the category of the label it renames.
 */
import type { LabelFormatStage } from '../ast.js';
import { ERR_TEMPLATE, ERROR_LABEL, LogPipelineCompileError, message } from './errors.js';
import type { Stage } from './stage.js';
import { compileTemplate, type Template } from './template/index.js';
import type { GoValue } from './template/values.js';

function errorText(name: string, err: unknown): string {
  return `template: ${name}: executing "${name}": ${message(err)}`;
}

export function compileLineFormat(source: string): Stage {
  let t: Template;
  try {
    t = compileTemplate('line', source);
  } catch (err) {
    throw new LogPipelineCompileError(`invalid line template: ${message(err)}`);
  }
  const constant = t.constant;
  if (constant !== undefined) {
    return (st) => {
      st.line = constant;
      return true;
    };
  }
  return (st) => {
    try {
      st.line = t.run(st.map() as GoValue, st.line, st.ts);
    } catch (err) {
      st.setErr(ERR_TEMPLATE, errorText('line', err));
    }
    return true;
  };
}

export function compileLabelFormat(stage: LabelFormatStage): Stage {
  const seen = new Set<string>();
  const ops = stage.ops.map((op) => {
    if (op.label === ERROR_LABEL) throw new LogPipelineCompileError(`${op.label} cannot be formatted`);
    if (seen.has(op.label)) {
      throw new LogPipelineCompileError(
        `multiple label name '${op.label}' not allowed in a single format operation`,
      );
    }
    seen.add(op.label);
    if (op.kind === 'rename') return { label: op.label, rename: op.value, tmpl: undefined };
    try {
      return { label: op.label, rename: undefined, tmpl: compileTemplate('label', op.value) };
    } catch (err) {
      throw new LogPipelineCompileError(`invalid template for label '${op.label}': ${message(err)}`);
    }
  });
  // the snapshot matters only when a later template could see a label an earlier op set
  const firstTemplate = ops.findIndex((o) => o.tmpl !== undefined);
  const needsData = ops.some(
    (o, i) => i > firstTemplate && o.tmpl !== undefined && o.tmpl.constant === undefined,
  );
  return (st) => {
    let data: GoValue | undefined;
    for (const op of ops) {
      if (op.rename !== undefined) {
        const cat = st.category(op.rename);
        if (cat !== undefined) {
          const v = st.get(op.rename) as string;
          st.set(cat, op.label, v);
          st.del(op.rename);
        }
        continue;
      }
      const t = op.tmpl as Template;
      // Loki takes the labels once, at the stage's first template
      if (data === undefined && (t.constant === undefined || needsData)) data = st.map() as GoValue;
      let v: string;
      if (t.constant !== undefined) v = t.constant;
      else {
        try {
          v = t.run(data, st.line, st.ts);
        } catch (err) {
          st.setErr(ERR_TEMPLATE, errorText('label', err));
          continue;
        }
      }
      st.setParsed(op.label, v);
    }
    return true;
  };
}
