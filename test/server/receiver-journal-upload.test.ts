/**
 * `POST /upload` with its real peer: Debian's `systemd-journal-upload` (package
 * systemd-journal-remote) pushing a journal file, made by `systemd-journal-remote` from export-format
 * entries (test/sources/journal-helpers.ts), to a real server process; binary-safe fields (a
 * multi-line message) arrive intact. Fails, not skips, when the programs are missing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  allValues,
  http,
  queryRange,
  removeDir,
  type ServerProcess,
  startServerProcess,
} from '../helpers/server-process.js';
import { exportEntry, JOURNAL_REMOTE, writeJournal } from '../sources/journal-helpers.js';

const JOURNAL_UPLOAD = '/usr/lib/systemd/systemd-journal-upload';

function upload(url: string, file: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // --follow=no: upload what the file holds, then exit (the default waits for more, as a service).
    const child = spawn(JOURNAL_UPLOAD, [`--url=${url}`, `--file=${file}`, '--follow=no'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // journal-upload exits 0 on SIGTERM: a stuck upload is told apart by `timedOut`.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? -1 : code, stderr });
    });
  });
}

describe('systemd-journal-upload → POST /upload', () => {
  let server: ServerProcess;
  let dir: string;
  before(async () => {
    assert.ok(existsSync(JOURNAL_UPLOAD), `${JOURNAL_UPLOAD} is missing: install systemd-journal-remote`);
    assert.ok(existsSync(JOURNAL_REMOTE), `${JOURNAL_REMOTE} is missing: install systemd-journal-remote`);
    server = await startServerProcess();
    dir = await mkdtemp(join(tmpdir(), 'kj-upload-'));
  });
  after(async () => {
    await server?.stop();
    if (server) await removeDir(server.dataDir);
    await rm(dir, { recursive: true, force: true });
  });

  test('a journal file arrives as kind=log records of its host, binary fields intact', async () => {
    const base = BigInt(Date.now() - 5000) * 1000n;
    await writeJournal(dir, [
      exportEntry(
        {
          _HOSTNAME: 'node-j1',
          SYSLOG_IDENTIFIER: 'kubelet',
          PRIORITY: '6',
          _SYSTEMD_UNIT: 'kubelet.service',
          MESSAGE: 'pod sandbox started',
        },
        base,
      ),
      exportEntry(
        { _HOSTNAME: 'node-j1', SYSLOG_IDENTIFIER: 'kernel', PRIORITY: '3', MESSAGE: 'oops line 1\nline 2' },
        base + 1000n,
      ),
    ]);
    const r = await upload(server.url, join(dir, 'remote.journal'));
    assert.equal(r.code, 0, r.stderr);
    const back = await queryRange(server.url, {
      query: '{source="journal", node="node-j1"}',
      limit: '10',
      direction: 'forward',
      since: '1h',
    });
    assert.deepEqual(allValues(back), [
      [String(base * 1000n), 'pod sandbox started'],
      [String((base + 1000n) * 1000n), 'oops line 1\nline 2'],
    ]);
    const s = back.data.result.find((x) => x.stream.systemd_unit === 'kubelet.service');
    assert.ok(s);
    assert.equal(s.stream.kind, 'log');
    assert.equal(s.stream.class, 'infrastructure');
    assert.equal(s.stream.syslog_identifier, 'kubelet');
    // Uploading the same file again stores nothing twice.
    assert.equal((await upload(server.url, join(dir, 'remote.journal'))).code, 0);
    const again = await queryRange(server.url, { query: '{node="node-j1"}', limit: '10', since: '1h' });
    assert.equal(allValues(again).length, 2);
  });

  test('another Content-Type is a 415 naming the one required; a broken entry is a 400', async () => {
    const r = await http(`${server.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'MESSAGE=x\n\n',
    });
    assert.equal(r.status, 415);
    assert.match(r.text, /application\/vnd\.fdo\.journal/);
    const bad = await http(`${server.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.fdo.journal' },
      body: `__REALTIME_TIMESTAMP=${Date.now() * 1000}\n_HOSTNAME=node-j2\nMESSAGE=fine\n\nbad name!=x\nMESSAGE=broken\n\n`,
    });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /1 corrupt entries refused: bad field name/);
    const back = await queryRange(server.url, { query: '{node="node-j2"}', limit: '10', since: '1h' });
    assert.deepEqual(
      allValues(back).map((v) => v[1]),
      ['fine'],
    );
  });

  test('counters for protocol journal-upload', async () => {
    const m = await http(`${server.url}/metrics`);
    assert.match(m.text, /kjournal_receiver_records_total\{protocol="journal-upload",result="accepted"\} 5/);
    assert.match(m.text, /kjournal_receiver_records_total\{protocol="journal-upload",result="refused"\} 1/);
  });
});
