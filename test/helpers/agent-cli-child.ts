/**
 * @module Run as a child process by test/agent/cli.test.ts: registers a test counter source as the
 * `pods` factory (its section's `dir` is ignored; 200 lines, job `cli`, first timestamp argv[2]) and
 * runs `kjournal agent` with the remaining arguments, exactly as the CLI does. The built-in factories
 * are loaded first (the CLI loads them with the agent command), so that the test's replaces theirs.
 */
import '../../src/sources/builtin.js';
import { runMain } from '../../src/cli/main.js';
import { registerSourceFactory } from '../../src/sources/registry.js';
import { CounterSource } from './agent-sources.js';

const [base, ...args] = process.argv.slice(2) as [string, ...string[]];
registerSourceFactory(
  'pods',
  (_section, ctx) =>
    new CounterSource({
      name: 'pods',
      total: 200,
      perBatch: 20,
      baseNs: BigInt(base),
      labels: { job: 'cli', node: ctx.node ?? 'none' },
    }),
);
process.exitCode = await runMain(['agent', ...args]);
