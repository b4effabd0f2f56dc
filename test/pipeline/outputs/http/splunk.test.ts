/**
 * @module The `splunk` output against a local HTTP Event Collector that follows Splunk's documented
 * behaviour: `Authorization: Splunk <token>` (401 code 2 without it, 401 code 3 malformed, 403
 * code 4 unknown token), events as concatenated JSON objects each with a non-blank `event` (400 code
 * 5 no data, 6 invalid data format, 12/13 event missing/blank), `{"text":"Success","code":0}`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Options } from '../../../../src/config/options.js';
import type { LogRecord } from '../../../../src/model/record.js';
import { hecTime, splunkOutput } from '../../../../src/pipeline/outputs/http/splunk.js';
import { OutputError } from '../../../../src/pipeline/outputs/output.js';
import { contractRecords, outputContract } from '../output-contract.js';
import { type PeerReply, type PeerRequest, peerHarness, startPeerServer } from './peer-server.js';

const ctx = { baseDir: process.cwd() };
const TOKEN = '11111111-2222-3333-4444-555555555555';

const hec = (status: number, text: string, code: number): PeerReply => ({
  status,
  body: JSON.stringify({ text, code }),
});

/** Splits HEC's batch format: JSON objects one after another, any whitespace between. */
export function splitConcatenated(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) out.push(text.slice(start, i + 1));
    } else if (depth === 0 && !/\s/.test(c ?? '')) throw new Error(`unexpected ${c} at ${i}`);
  }
  if (depth !== 0) throw new Error('unterminated object');
  return out;
}

function collector(req: PeerRequest): PeerReply {
  if (req.url !== '/services/collector/event') return { status: 404, body: '' };
  const auth = req.headers.authorization;
  if (auth === undefined) return hec(401, 'Token is required', 2);
  const m = /^Splunk (.+)$/.exec(auth);
  if (!m) return hec(401, 'Invalid authorization', 3);
  if (m[1] !== TOKEN) return hec(403, 'Invalid token', 4);
  const text = req.body.toString('utf8');
  if (text.trim() === '') return hec(400, 'No data', 5);
  let events: Record<string, unknown>[];
  try {
    events = splitConcatenated(text).map((s) => JSON.parse(s) as Record<string, unknown>);
  } catch {
    return hec(400, 'Invalid data format', 6);
  }
  for (const e of events) {
    if (!('event' in e)) return hec(400, 'Event field is required', 12);
    if (e.event === '' || e.event === null) return hec(400, 'Event field cannot be blank', 13);
    if (e.time !== undefined && typeof e.time !== 'number') return hec(400, 'Invalid data format', 6);
  }
  return hec(200, 'Success', 0);
}

function bodiesOf(requests: readonly PeerRequest[]): string[] {
  return requests.flatMap((r) =>
    splitConcatenated(r.body.toString('utf8')).map((s) => (JSON.parse(s) as { event: string }).event),
  );
}

outputContract(
  'splunk',
  peerHarness(
    collector,
    (url) => splunkOutput('hec', new Options({ url, token: TOKEN }, []), ctx),
    (peer) => bodiesOf(peer.requests),
  ),
);

describe('splunk output', () => {
  test('events are concatenated HEC objects, byte for byte', async () => {
    const peer = await startPeerServer(collector);
    const out = splunkOutput(
      'hec',
      new Options(
        { url: `${peer.url}/`, token: TOKEN, index: 'k8s', source: 'kjournal', sourcetype: '_json' },
        [],
      ),
      ctx,
    );
    try {
      const t = 1_714_557_600_123_456_789n;
      const records: LogRecord[] = [
        { ...contractRecords(['one'], t)[0]!, labels: { kind: 'containerlog', node: 'node-1' } },
        { ...contractRecords(['two "q"'], t + 1000n)[0]!, labels: { kind: 'log' } },
      ];
      await out.send(records, AbortSignal.timeout(5000));
      const req = peer.requests[0]!;
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/services/collector/event');
      assert.equal(req.headers.authorization, `Splunk ${TOKEN}`);
      assert.equal(
        req.body.toString('utf8'),
        '{"time":1714557600.123456,"host":"node-1","source":"kjournal","sourcetype":"_json","index":"k8s",' +
          '"event":"one","fields":{"seq":"0","kind":"containerlog","node":"node-1"}}' +
          '{"time":1714557600.123457,"source":"kjournal","sourcetype":"_json","index":"k8s",' +
          '"event":"two \\"q\\"","fields":{"seq":"0","kind":"log"}}',
      );
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('hecTime is exact seconds with microseconds', () => {
    assert.equal(hecTime(1_426_279_439_000_000_000n), '1426279439.000000');
    assert.equal(hecTime(1_426_279_439_999_999_999n), '1426279439.999999');
    assert.equal(hecTime(-1_500_000_000n), '-2.500000');
  });

  test('an invalid token is rejected (403 code 4), not retried', async () => {
    const peer = await startPeerServer(collector);
    const out = splunkOutput('hec', new Options({ url: peer.url, token: 'wrong' }, []), ctx);
    try {
      await assert.rejects(out.send(contractRecords(['x']), AbortSignal.timeout(5000)), (err: unknown) => {
        assert.ok(err instanceof OutputError);
        assert.equal(err.retryable, false);
        assert.match(err.message, /answered 403: Invalid token \(code 4\)/);
        return true;
      });
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('a blank event is rejected (400 code 13)', async () => {
    const peer = await startPeerServer(collector);
    const out = splunkOutput('hec', new Options({ url: peer.url, token: TOKEN }, []), ctx);
    try {
      await assert.rejects(out.send(contractRecords(['']), AbortSignal.timeout(5000)), (err: unknown) => {
        assert.ok(err instanceof OutputError);
        assert.equal(err.retryable, false);
        assert.match(err.message, /400: Event field cannot be blank \(code 13\)/);
        return true;
      });
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('server busy (503 code 9) is retryable', async () => {
    const peer = await startPeerServer(() => hec(503, 'Server is busy', 9));
    const out = splunkOutput('hec', new Options({ url: peer.url, token: TOKEN }, []), ctx);
    try {
      await assert.rejects(out.send(contractRecords(['x']), AbortSignal.timeout(5000)), (err: unknown) => {
        assert.ok(err instanceof OutputError);
        assert.equal(err.retryable, true);
        assert.match(err.message, /503: Server is busy \(code 9\)/);
        return true;
      });
    } finally {
      await out.close();
      await peer.close();
    }
  });

  test('token or tokenFile is required, and bearer options are not Splunk options', () => {
    assert.throws(
      () => splunkOutput('h', new Options({ url: 'http://x' }, []), ctx),
      /one of token and tokenFile/,
    );
    assert.throws(
      () => splunkOutput('h', new Options({ url: 'http://x', token: 't', bearerToken: 'b' }, []), ctx),
      /unknown field "bearerToken"/,
    );
  });
});
