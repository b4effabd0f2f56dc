/**
 * @module A local node:http server standing in for an output's peer (a webhook receiver, Splunk HEC,
 * Elasticsearch): it records every request, answers through a handler that implements the peer's
 * documented API, and can be stopped and started again on the same port.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Output } from '../../../../src/pipeline/outputs/output.js';
import { freePort } from '../../../helpers/agent-e2e.js';
import type { OutputHarness } from '../output-contract.js';

export interface PeerRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface PeerReply {
  readonly status: number;
  readonly body?: string;
  readonly contentType?: string;
}

export interface PeerServer {
  readonly url: string;
  readonly requests: PeerRequest[];
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startPeerServer(handler: (req: PeerRequest) => PeerReply): Promise<PeerServer> {
  const requests: PeerRequest[] = [];
  // A port below the ephemeral range: the peer is stopped and started again at it.
  let port = await freePort();
  let server: Server | undefined;
  const listen = async () => {
    const s = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
        };
        requests.push(r);
        const reply = handler(r);
        res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json' });
        res.end(reply.body ?? '');
      });
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return { url: `http://127.0.0.1:${port}`, requests, stop, start: listen, close: stop };
}

/**
 * The output contract's harness for an HTTP output: a peer serving `handler`, the output `make`
 * builds against the peer's URL, and what the peer got as `received` reads it.
 */
export function peerHarness(
  handler: (req: PeerRequest) => PeerReply,
  make: (url: string) => Output,
  received: (peer: PeerServer) => string[],
): () => Promise<OutputHarness> {
  return async () => {
    const peer = await startPeerServer(handler);
    const output = make(peer.url);
    return {
      output,
      received: async () => received(peer),
      stopPeer: () => peer.stop(),
      startPeer: () => peer.start(),
      async close() {
        await output.close();
        await peer.close();
      },
    };
  };
}
