/**
 * @module A source whose records go through a function before the agent takes them: the audit
 * policy and the pipeline's flows run here, on the node, before anything is buffered or shipped.
 * A record the function drops is gone, but the batch's positions still advance with the batch
 * (what was read was handled), so a dropped record is not read again after a restart.
 */
import type { LogRecord } from '../model/record.js';
import type { Source, SourceContext } from '../sources/source.js';

export type RecordMap = (records: readonly LogRecord[]) => LogRecord[];

export function mapRecords(source: Source, map: RecordMap): Source {
  return {
    name: source.name,
    run(ctx: SourceContext): Promise<void> {
      return source.run({
        positions: ctx.positions,
        signal: ctx.signal,
        problem: (p) => ctx.problem(p),
        emit: (batch) => ctx.emit({ records: map(batch.records), positions: batch.positions }),
        stage: (records) => ctx.stage(map(records)),
      });
    },
  };
}
