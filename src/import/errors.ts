/**
 * @module The import run's one error: nothing to import, an import stopped by the server, or one
 * that finished with lines or files it could not bring in. One line for a person; `src/cli/main.ts`
 * turns it into the exit code (1).
 */

export class ImportError extends Error {
  override readonly name = 'ImportError';
}
