import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { credentialHeaders, resolveConnection, tokenFromFile } from '../../src/client/connection.js';

test('a token file is read at start, re-read after a minute, and its last good token kept while missing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kj-token-'));
  try {
    const path = join(dir, 'token');
    await writeFile(path, 'first\n');
    const t0 = 1_000_000;
    assert.equal(tokenFromFile(path, t0), 'first');
    await writeFile(path, 'second\n');
    assert.equal(tokenFromFile(path, t0 + 30_000), 'first', 'cached within a minute');
    assert.equal(tokenFromFile(path, t0 + 61_000), 'second', 'rotated token picked up');
    await rm(path);
    assert.equal(tokenFromFile(path, t0 + 200_000), 'second', 'the last good token while the file is gone');
    assert.throws(
      () => tokenFromFile(join(dir, 'absent')),
      /cannot read the token file .*absent: no such file/,
    );

    await writeFile(join(dir, 't2'), 'abc');
    const conn = await resolveConnection({ server: 'http://127.0.0.1:1', tokenFile: join(dir, 't2') }, {});
    assert.equal(credentialHeaders(conn).authorization, 'Bearer abc');
    await assert.rejects(
      resolveConnection({ server: 'http://127.0.0.1:1', tokenFile: join(dir, 'nope') }, {}),
      /cannot read the token file/,
    );
    await assert.rejects(
      resolveConnection({ server: 'http://127.0.0.1:1', token: 'x', tokenFile: join(dir, 't2') }, {}),
      /--token and --token-file cannot be used together/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
