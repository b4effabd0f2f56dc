/**
 * Real Loki clients written by others push to a real kjournal server process:
 * winston-loki (protobuf in a snappy block) and pino-loki (JSON).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { pinoLoki } from 'pino-loki';
import winston from 'winston';
import LokiTransport from 'winston-loki';
import {
  allValues,
  http,
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';

async function eventually<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function pushCount(url: string, format: string): Promise<number> {
  const m = new RegExp(`kjournal_push_requests_total\\{format="${format}"\\} (\\d+)`).exec(
    (await http(`${url}/metrics`)).text,
  );
  return m ? Number(m[1]) : 0;
}

describe('real Loki clients from npm', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess();
  });
  after(async () => {
    await server.stop();
    await removeDir(server.dataDir);
  });

  test('winston-loki pushes protobuf+snappy and the lines come back', async () => {
    const transport = new LokiTransport({
      host: server.url,
      labels: { app: 'winston-test', namespace: 'shop' },
      json: false,
      batching: true,
      interval: 0.2,
      onConnectionError: (err) => assert.fail(`winston-loki could not push: ${String(err)}`),
    });
    const logger = winston.createLogger({ transports: [transport], format: winston.format.json() });
    for (let i = 0; i < 25; i++) logger.info(`winston line ${i}`, { requestId: `r-${i}` });
    await transport.flush();
    const values = await eventually(async () => {
      const v = allValues(await queryRange(server.url, { query: '{app="winston-test"}', limit: '100' }));
      return v.length >= 25 ? v : undefined;
    }, 'winston lines');
    assert.equal(values.length, 25);
    for (let i = 0; i < 25; i++)
      assert.ok(
        values.some((v) => v[1].includes(`winston line ${i}`)),
        `line ${i}`,
      );
    assert.ok(
      (await pushCount(server.url, 'protobuf')) > 0,
      'winston-loki used protobuf, not its JSON fallback',
    );
    await transport.close();
  });

  test('pino-loki pushes JSON with labels and the lines come back', async () => {
    const before = await pushCount(server.url, 'json');
    const stream = pinoLoki({
      host: server.url,
      batching: false,
      labels: { app: 'pino-test', namespace: 'payments' },
      silenceErrors: false,
    });
    const logger = pino({ level: 'info' }, stream);
    for (let i = 0; i < 10; i++) logger.info({ orderId: i }, `pino line ${i}`);
    const values = await eventually(async () => {
      const v = allValues(
        await queryRange(server.url, { query: '{app="pino-test"} |= "pino line"', limit: '100' }),
      );
      return v.length >= 10 ? v : undefined;
    }, 'pino lines');
    assert.equal(values.length, 10);
    const parsed = values.map((v) => JSON.parse(v[1]) as { msg: string; orderId: number });
    assert.deepEqual(
      parsed.map((p) => p.orderId).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    for (const p of parsed) assert.equal(p.msg, `pino line ${p.orderId}`);
    assert.ok((await pushCount(server.url, 'json')) > before, 'pino-loki pushed JSON');
    const labelled = await queryRange(server.url, {
      query: '{namespace="payments", class="application"}',
      limit: '100',
    });
    assert.equal(allValues(labelled).length, 10);
    stream.end();
  });
});
