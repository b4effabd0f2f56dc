/**
 * @module LogQL errors, worded as Loki words them: `parse error at line 1, col 5: ...`.
 */

export class LogqlParseError extends Error {
  override readonly name = 'LogqlParseError';
  constructor(
    readonly detail: string,
    readonly line: number,
    readonly col: number,
  ) {
    // Loki's ParseError leaves the position out when it has none (line and col 0).
    super(
      line === 0 && col === 0
        ? `parse error : ${detail}`
        : `parse error at line ${line}, col ${col}: ${detail}`,
    );
  }
}

/** A query that parses but asks for something kjournal does not evaluate. */
export class LogqlUnsupportedError extends Error {
  override readonly name = 'LogqlUnsupportedError';
}
