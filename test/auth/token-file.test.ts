import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthConfigError } from '../../src/auth/errors.js';
import { parseCsv, parseTokenCsv } from '../../src/auth/token-file.js';

describe('token file (kube-apiserver --token-auth-file)', () => {
  it('reads token,user,uid and a quoted groups column, skipping blank lines, CRLF accepted', () => {
    const t = parseTokenCsv('\nabc,alice,1,"dev,ops"\r\n\r\ndef,bob,2\nghi,carol,,\n', 'tokens.csv');
    assert.deepEqual(t.get('abc'), { name: 'alice', uid: '1', groups: ['dev', 'ops'], extra: {} });
    assert.deepEqual(t.get('def'), { name: 'bob', uid: '2', groups: [], extra: {} });
    // An empty fourth column is one empty group, as strings.Split gives it.
    assert.deepEqual(t.get('ghi'), { name: 'carol', groups: [''], extra: {} });
    assert.equal(t.size, 3);
  });

  it('skips rows with an empty token and lets a repeated token take the later row', () => {
    const t = parseTokenCsv(',nobody,0\nx,first,1\nx,second,2\n', 'f');
    assert.equal(t.size, 1);
    assert.equal(t.get('x')?.name, 'second');
  });

  it('parses quotes as Go encoding/csv: doubled quotes, newlines inside quotes', () => {
    assert.deepEqual(parseCsv('"a""b",c\n"multi\nline",d\n'), [
      { line: 1, fields: ['a"b', 'c'] },
      { line: 2, fields: ['multi\nline', 'd'] },
    ]);
  });

  it('names the file and line of errors', () => {
    assert.throws(
      () => parseTokenCsv('a,b,c\n\nonly,two\n', 'tokens.csv'),
      (e: Error) =>
        e instanceof AuthConfigError &&
        e.message ===
          'token file tokens.csv:3: must have at least 3 columns (token, user name, user uid), found 2',
    );
    assert.throws(
      () => parseTokenCsv('a,b,c\nx,y"z,1\n', 'tokens.csv'),
      /tokens\.csv:2: bare " in non-quoted-field/,
    );
    assert.throws(() => parseTokenCsv('a,"b"c,1\n', 'tokens.csv'), /tokens\.csv:1: extraneous or missing "/);
    assert.throws(
      () => parseTokenCsv('a,b,"unterminated\n', 'tokens.csv'),
      /tokens\.csv:1: extraneous or missing "/,
    );
    // No comments in Go's CSV: a # line is a row, and too short.
    assert.throws(
      () => parseTokenCsv('# tokens\n', 'tokens.csv'),
      /tokens\.csv:1: must have at least 3 columns/,
    );
  });
});
