/**
 * @module The ingest phase: pre-encoded push bodies sent to `POST /loki/api/v1/push` over a few
 * keep-alive connections. Every request must be acknowledged with 204; 429 and 5xx are retried with
 * backoff as promtail would, and counted.
 */
import { Agent, request } from 'node:http';

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

/** One HTTP request with a body; resolves with the status and the response text. */
export function httpRequest(
  agent: Agent,
  url: string,
  method: string,
  body?: Buffer,
  headers: Record<string, string> = {},
  timeoutMs = 300_000,
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface PushReport {
  readonly requests: number;
  readonly seconds: number;
  /** Responses other than 204 that were retried, by status. */
  readonly retried: Record<string, number>;
  /** Per-request latency, milliseconds: median and max. */
  readonly latencyMedianMs: number;
  readonly latencyMaxMs: number;
}

const MAX_ATTEMPTS = 8;

export async function pushAll(
  baseUrl: string,
  bodies: readonly Buffer[],
  concurrency: number,
): Promise<PushReport> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = `${baseUrl}/loki/api/v1/push`;
  const headers = { 'Content-Type': 'application/x-protobuf' };
  const retried: Record<string, number> = {};
  const latencies: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      for (let attempt = 1; ; attempt++) {
        const t0 = performance.now();
        const res = await httpRequest(agent, url, 'POST', body, headers);
        latencies.push(performance.now() - t0);
        if (res.status === 204) break;
        const retryable = res.status === 429 || res.status >= 500;
        if (!retryable || attempt >= MAX_ATTEMPTS) {
          throw new Error(`push answered ${res.status} (attempt ${attempt}): ${res.body.slice(0, 500)}`);
        }
        retried[res.status] = (retried[res.status] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
  };
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: bodies.length,
    seconds,
    retried,
    latencyMedianMs: latencies[Math.floor(latencies.length / 2)] ?? 0,
    latencyMaxMs: latencies[latencies.length - 1] ?? 0,
  };
}
