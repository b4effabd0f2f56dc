/**
 * @module Docker's json-file container logs: `{"log":"text\n","stream":"stdout","time":"<RFC 3339>"}`.
 * Docker splits lines longer than 16 KiB into entries whose `log` lacks the final newline; pieces of
 * one stream are joined until one ends with `\n`, stamped with the time of the first piece.
 */
import { parseObject } from './json-util.js';
import { containerStreams } from './pod-labels.js';
import { SplitLines } from './split-lines.js';
import { parseRfc3339Fast } from './time-value.js';
import type { LineParser, ParserFactory } from './types.js';

export const dockerParser: ParserFactory = (ctx, sink): LineParser => {
  const streams = containerStreams(ctx);
  const split = new SplitLines((stream, ts, line) =>
    sink.entry(streams.labels(stream), ts, line, streams.attributes),
  );
  return {
    line(text, lineNo) {
      const o = parseObject(text);
      if (o === undefined || typeof o.log !== 'string' || typeof o.time !== 'string') {
        sink.malformed(lineNo, 'not a docker json-file line (want {"log":...,"stream":...,"time":...})');
        return;
      }
      const ts = parseRfc3339Fast(o.time);
      if (ts === undefined) {
        sink.malformed(lineNo, `bad docker timestamp ${JSON.stringify(o.time.slice(0, 40))}`);
        return;
      }
      const stream = typeof o.stream === 'string' && o.stream !== '' ? o.stream : 'stdout';
      const log = o.log;
      const complete = log.endsWith('\n');
      split.piece(stream, ts, complete ? log.slice(0, -1) : log, complete);
    },
    pending: () => split.pending(),
    end: () => split.flush(),
  };
};
