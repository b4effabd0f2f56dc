import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { readBody } from '../../../src/api/http/body.js';
import { HttpError } from '../../../src/api/http/errors.js';

/** A server whose handler hands each request to `onRequest`; answers once it settles. */
async function withServer(
  onRequest: (req: IncomingMessage) => Promise<unknown>,
  client: (port: number) => Promise<void>,
): Promise<unknown[]> {
  const outcomes: unknown[] = [];
  const server = createServer((req, res) => {
    onRequest(req).then(
      (v) => {
        outcomes.push(v);
        res.end('ok');
      },
      (err: unknown) => {
        outcomes.push(err);
        res.statusCode = 400;
        res.end(String(err));
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await client((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  return outcomes;
}

function post(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/' }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a body read twice fails at once instead of waiting for an end that has passed', async () => {
  const outcomes = await withServer(
    async (req) => {
      await readBody(req, 1000);
      return readBody(req, 1000);
    },
    async (port) => {
      assert.equal(await post(port, 'a=b'), 400);
    },
  );
  assert.match(String(outcomes[0]), /request body already read/);
});

test('a client that goes away mid-body settles the read', async () => {
  let settled: (v: unknown) => void;
  const done = new Promise((r) => {
    settled = r;
  });
  await withServer(
    (req) => {
      const p = readBody(req, 1 << 20);
      p.then(settled!, settled!);
      return p;
    },
    async (port) => {
      const req = request({
        port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/',
        headers: { 'content-length': '1000' },
      });
      req.on('error', () => {});
      req.write('partial');
      await new Promise((r) => setTimeout(r, 100));
      req.destroy();
      const outcome = await Promise.race([done, new Promise((r) => setTimeout(() => r('hung'), 5000))]);
      assert.ok(outcome instanceof Error, `the read settled with an error, got ${String(outcome)}`);
    },
  );
});

test('a chunk check that throws stops the read with its error, and the limit is a 413', async () => {
  const outcomes = await withServer(
    (req) =>
      readBody(req, 1 << 20, (chunk) => {
        if (chunk.includes('[')) throw new HttpError(400, 'no brackets');
      }),
    async (port) => {
      assert.equal(await post(port, `${'x'.repeat(100)}[`), 400);
      assert.equal(await post(port, 'fine'), 200);
    },
  );
  assert.ok(outcomes[0] instanceof HttpError && outcomes[0].status === 400);
  assert.deepEqual(outcomes[1], Buffer.from('fine'));
  const [tooLarge] = await withServer(
    (req) => readBody(req, 10),
    async (port) => {
      assert.equal(await post(port, 'x'.repeat(11)), 400);
    },
  );
  assert.ok(tooLarge instanceof HttpError && tooLarge.status === 413);
});
