/**
 * The statuses of the lower layers' errors (src/api/http/errors.ts asHttpError): a body a codec
 * refuses is the client's fault, 400 when malformed and 413 when too large (Loki's statuses for a
 * push), with the codec's text; anything else is not an HTTP error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asHttpError, HttpError } from '../../../src/api/http/errors.js';
import { FormatError } from '../../../src/formats/errors.js';
import { decodePushBody } from '../../../src/formats/loki-push/index.js';

test('a codec refusal is 400 (malformed) or 413 (too large), with its text', () => {
  const malformed = asHttpError(new FormatError('malformed', 'unexpected EOF'));
  assert.ok(malformed instanceof HttpError);
  assert.equal(malformed.status, 400);
  assert.equal(malformed.message, 'unexpected EOF');
  assert.equal(asHttpError(new FormatError('too-large', 'request body too large: x'))?.status, 413);
});

test('a push body the decoder refuses maps to the status Loki answers', () => {
  const refusal = (body: string, type: string, maxEntries?: number): unknown => {
    try {
      decodePushBody(Buffer.from(body), type, undefined, maxEntries === undefined ? {} : { maxEntries });
    } catch (err) {
      return err;
    }
    return undefined;
  };
  assert.equal(asHttpError(refusal('{', 'application/json'))?.status, 400);
  const many = JSON.stringify({
    streams: [
      {
        stream: { a: '1' },
        values: [
          ['1', 'x'],
          ['2', 'y'],
        ],
      },
    ],
  });
  assert.equal(asHttpError(refusal(many, 'application/json', 1))?.status, 413);
});

test('an HttpError is itself; other errors are not HTTP errors', () => {
  const e = new HttpError(422, 'x');
  assert.equal(asHttpError(e), e);
  assert.equal(asHttpError(new Error('boom')), undefined);
  assert.equal(asHttpError('text'), undefined);
});
