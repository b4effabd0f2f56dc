/**
 * The logger of `serve` and `agent` (util/log.ts): levels, the two formats, one line per event.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LogFormat, Logger, type LogLevel, lineLogger } from '../../src/util/log.js';

const NOW = new Date('2026-12-07T15:04:05.678Z');

function capture(level: LogLevel, format: LogFormat): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = new Logger({ level, format, now: () => NOW, write: (l) => lines.push(l) });
  return { logger, lines };
}

test('json: one object per line with ts, level, msg and the fields; undefined fields left out', () => {
  const { logger, lines } = capture('debug', 'json');
  logger.warn('request failed', {
    request_id: 'abc',
    status: 500,
    tenant: undefined,
    err: 'Error: x\n    at y',
  });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('\n') && lines[0]!.indexOf('\n') === lines[0]!.length - 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    ts: '2026-12-07T15:04:05.678Z',
    level: 'warn',
    msg: 'request failed',
    request_id: 'abc',
    status: 500,
    err: 'Error: x\n    at y',
  });
  // A field cannot overwrite ts, level or msg.
  logger.info('m', { level: 'error', msg: 'forged' });
  assert.deepEqual(JSON.parse(lines[1]!), { ts: '2026-12-07T15:04:05.678Z', level: 'info', msg: 'm' });
});

test('text: time level message key=value, values with spaces, quotes, = or line breaks quoted', () => {
  const { logger, lines } = capture('debug', 'text');
  logger.error('internal error', {
    request_id: 'abc',
    err: 'Error: boom\n    at f (x.js:1)',
    path: '/a b',
    n: 3,
  });
  logger.info('two\nlines');
  logger.info('empty', { v: '', eq: 'a=b', q: 'say "hi"' });
  assert.deepEqual(lines, [
    '2026-12-07T15:04:05.678Z error internal error request_id=abc err="Error: boom\\n    at f (x.js:1)" path="/a b" n=3\n',
    '2026-12-07T15:04:05.678Z info two\\nlines\n',
    '2026-12-07T15:04:05.678Z info empty v="" eq="a=b" q="say \\"hi\\""\n',
  ]);
});

test('levels: what is under the level is not written', () => {
  const { logger, lines } = capture('warn', 'text');
  logger.debug('d');
  logger.info('i');
  logger.warn('w');
  logger.error('e');
  assert.deepEqual(
    lines.map((l) => l.split(' ')[1]),
    ['warn', 'error'],
  );
  assert.equal(logger.enabled('info'), false);
  assert.equal(logger.enabled('error'), true);
});

test("a lower layer's LineLog: its default level unless a line names another", () => {
  const { logger, lines } = capture('info', 'json');
  const log = logger.line('warn');
  log('store: something is off');
  log('store: back to normal', 'info');
  log('store: detail', 'debug');
  assert.deepEqual(
    lines.map((l) => [JSON.parse(l).level, JSON.parse(l).msg]),
    [
      ['warn', 'store: something is off'],
      ['info', 'store: back to normal'],
    ],
  );
});

test('lineLogger: the text of each event without time and level (for a `log` callback)', () => {
  const got: string[] = [];
  const logger = lineLogger((l) => got.push(l));
  logger.warn('request failed', { request_id: 'r1', status: 500 });
  logger.debug('not at info');
  assert.deepEqual(got, ['request failed request_id=r1 status=500']);
});
