/**
 * @module Running a file source in a test: collects batches and problems as the agent would see them
 * (test/helpers/source-run.ts).
 */
export { runSource, type SourceRun as Run } from '../helpers/source-run.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
