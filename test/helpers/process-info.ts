/**
 * @module Small helpers for tests that look at a process: the resident memory of a child (from
 * /proc), and a run of the CLI in this process with its stderr captured.
 */
import { readFileSync } from 'node:fs';
import { runMain } from '../../src/cli/main.js';

/** The process's resident set size (VmRSS), in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

/** Runs the CLI with stderr captured (stdout is left alone: the test runner reports there). */
export async function runCliCapturingStderr(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await runMain(argv), stderr };
  } finally {
    process.stderr.write = write;
  }
}
