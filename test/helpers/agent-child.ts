/**
 * @module Run as a child process by test/agent/kill.test.ts: an Agent with a CounterSource, shipping
 * to argv[3] with state in argv[2]; argv[4] lines in all, argv[5] the first timestamp (ns). Prints
 * `started` on stderr. Meant to be killed with SIGKILL; SIGTERM stops it cleanly.
 */
import { Agent } from '../../src/agent/agent.js';
import { KjournalClient } from '../../src/client/client.js';
import { CounterSource } from './agent-sources.js';

const [stateDir, server, total, base] = process.argv.slice(2) as [string, string, string, string];
const client = new KjournalClient(
  { server: new URL(server), insecureSkipTlsVerify: false, source: 'test' },
  { timeoutMs: 5000 },
);
const source = new CounterSource({
  total: Number(total),
  perBatch: 7,
  delayMs: 2,
  baseNs: BigInt(base),
  labels: { job: 'killtest' },
});
const agent = new Agent({
  sources: [source],
  client,
  stateDir,
  batchMaxWaitMs: 20,
  batchMaxBytes: 2048,
  retry: { baseDelayMs: 20, maxDelayMs: 200 },
  log: (m) => process.stderr.write(`${m}\n`),
});
await agent.start();
process.stderr.write('started\n');
process.once('SIGTERM', () => {
  agent.stop().then(() => process.exit(0));
});
