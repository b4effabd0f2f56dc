/**
 * @module A file's lines through one of the import's line parsers (src/import/formats), as the
 * tailer's FileHandler: parsed entries become records with the labels `labelsOf` gives, malformed
 * lines are reported `corrupt_line` and skipped. Shared by the pod-log and audit-log sources.
 */

import type { BytesSink, LineParser, ParseSink } from '../../import/formats/types.js';
import type { Attributes, Labels, LogRecord } from '../../model/record.js';
import { nowNs } from '../../model/time.js';
import type { StageBytes } from '../source.js';
import type { FileHandler, Report } from './tailer.js';

/** Shared by entries without attributes on the byte path (never changed: encoded as they are). */
const NO_ATTRIBUTES: Attributes = Object.freeze({});

export function parsedFileHandler(
  path: string,
  report: Report,
  /** The record labels for the labels a parser gives (called per entry; cache inside). */
  labelsOf: (parsed: Labels) => Labels,
  /** The parser for this file, chosen when its first line is read. */
  parserFor: (firstLine: string, sink: ParseSink) => LineParser,
): FileHandler {
  // The tailer's batch, only while a line or the end is being parsed: holding on to it between calls
  // kept every file's last emitted batch alive (a hundred files held 77k records).
  let out: LogRecord[] | undefined;
  const sink: ParseSink = {
    entry(labels: Labels, ts: bigint, line: string, attributes?: Attributes) {
      if (!out) throw new Error(`${path}: a parser gave an entry outside line() and end()`);
      out.push({
        timestamp: ts,
        observedTimestamp: nowNs(),
        labels: labelsOf(labels),
        attributes: attributes ?? {},
        body: line,
      });
    },
    malformed(lineNo, reason) {
      report('corrupt_line', `${path}: line ${lineNo} (of this run): ${reason}; skipped`);
    },
  };
  let parser: LineParser | undefined;
  let lineNo = 0;
  // The byte path's sink, made for the tailer's `stage` (one function, the same on every call).
  let bytesSink: { stage: StageBytes; sink: BytesSink } | undefined;
  const sinkFor = (stage: StageBytes): BytesSink => {
    if (bytesSink?.stage !== stage) {
      const sink: BytesSink = {
        entryBytes: (labels, ts, buf, start, end, attributes) =>
          stage(labelsOf(labels), attributes ?? NO_ATTRIBUTES, ts, buf, start, end),
      };
      bytesSink = { stage, sink };
    }
    return bytesSink.sink;
  };
  return {
    bytes(buf, start, stop, stage) {
      // The parser is chosen by the first line, as text.
      if (parser?.bytes === undefined || !parser.bytes(buf, start, stop, sinkFor(stage))) return false;
      lineNo++;
      return true;
    },
    line(text, records) {
      out = records;
      lineNo++;
      parser ??= parserFor(text, sink);
      try {
        parser.line(text, lineNo);
      } finally {
        out = undefined;
      }
    },
    pending: () => parser?.pending?.() ?? false,
    end(records) {
      out = records;
      try {
        parser?.end();
      } finally {
        out = undefined;
      }
    },
  };
}
