/**
 * @module A real kjournal server as the peer of the `loki` and `kjournal` outputs: started on a fixed
 * free port (so it can be stopped and started again at the same address, with the same data), and
 * read back through the Loki query API.
 */
import { freePort } from '../../../helpers/agent-e2e.js';
import {
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../../../helpers/server-process.js';

export interface KjournalPeer {
  readonly url: string;
  /** Bodies of the streams `query` selects, oldest first (forward order). */
  bodies(query?: string, tenant?: string): Promise<string[]>;
  streams(
    query: string,
    tenant?: string,
  ): Promise<{ stream: Record<string, string>; values: [string, string, Record<string, string>?][] }[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startKjournalPeer(args: string[] = []): Promise<KjournalPeer> {
  const port = await freePort();
  let server: ServerProcess | undefined = await startServerProcess({
    args: ['--listen', `127.0.0.1:${port}`, ...args],
  });
  const dataDir = server.dataDir;
  const url = server.url;
  const range = (query: string) => ({
    query,
    start: String((BigInt(Date.now()) - 3_600_000n) * 1_000_000n),
    end: String((BigInt(Date.now()) + 60_000n) * 1_000_000n),
    limit: '5000',
    direction: 'forward',
  });
  const peer: KjournalPeer = {
    url,
    async streams(query, tenant) {
      const headers: Record<string, string> = tenant ? { 'X-Scope-OrgID': tenant } : {};
      const res = await queryRange(url, range(query), headers);
      return res.data.result as {
        stream: Record<string, string>;
        values: [string, string, Record<string, string>?][];
      }[];
    },
    async bodies(query = '{app="kjournal-test"}', tenant) {
      const all = (await peer.streams(query, tenant)).flatMap((s) => s.values);
      all.sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : BigInt(a[0]) > BigInt(b[0]) ? 1 : 0));
      return all.map((v) => v[1]);
    },
    async stop() {
      await server?.stop();
      server = undefined;
    },
    async start() {
      server = await startServerProcess({ dataDir, args: ['--listen', `127.0.0.1:${port}`, ...args] });
    },
    async close() {
      await server?.stop();
      server = undefined;
      await removeDir(dataDir);
    },
  };
  return peer;
}
