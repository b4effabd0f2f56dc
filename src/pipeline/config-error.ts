/**
 * @module Where a configuration error is: a field path (`flows[0].filters[1].parser.format`) becomes
 * the file's line and column through the YAML document's node ranges, and the error's text becomes
 * `policy.yaml:12:7: flows[0].filters[1].parser.format: must be one of json, logfmt, ...`.
 *
 * An error about a key itself (an unknown field, an unknown filter type) points at the key; any
 * other at the value. A path that does not exist in the file (a required field left out) points at
 * the deepest node that does (the mapping that lacks the field).
 */
import { type Document, isMap, isScalar, isSeq, type LineCounter } from 'yaml';
import { ConfigError, type ConfigPath, pathText } from '../config/options.js';

/** A ConfigError about a key (its position is the key's, not the value's). */
export class KeyConfigError extends ConfigError {}

/** A configuration error located in its file; the message is the whole `file:line:col: ...` text. */
export class PipelineConfigError extends Error {
  override readonly name = 'PipelineConfigError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly path: ConfigPath,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${col}: ${path.length > 0 ? `${pathText(path)}: ` : ''}${reason}`);
  }
}

const isKeyError = (err: ConfigError): boolean =>
  err instanceof KeyConfigError || /^unknown field\b/.test(err.message);

/** The offset in the text where `path` (or its key) is written. */
function offsetOf(doc: Document, path: ConfigPath, wantKey: boolean): number {
  let node: unknown = doc.contents;
  let best = (doc.contents?.range?.[0] as number | undefined) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const p = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(p));
      if (!pair) break;
      const keyStart = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      const value = pair.value as { range?: [number, number, number] } | null;
      if (last && wantKey && keyStart !== undefined) return keyStart;
      if (!value?.range) return keyStart ?? best;
      node = value;
      best = value.range[0];
    } else if (isSeq(node) && typeof p === 'number') {
      const item = node.items[p] as { range?: [number, number, number] } | null | undefined;
      if (!item?.range) break;
      node = item;
      best = item.range[0];
    } else {
      break;
    }
  }
  return best;
}

/** The located error of a ConfigError found while reading `doc`. */
export function locate(
  err: ConfigError,
  doc: Document,
  lineCounter: LineCounter,
  file: string,
): PipelineConfigError {
  const pos = lineCounter.linePos(offsetOf(doc, err.path, isKeyError(err)));
  return new PipelineConfigError(file, pos.line, pos.col, err.path, err.message);
}
