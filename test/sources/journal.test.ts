import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createJournalSource, JOURNAL_POSITION_KEY, sinceOfCursor } from '../../src/sources/journal/index.js';
import type { Positions, Source } from '../../src/sources/source.js';
import { runSource, type SourceRun } from '../helpers/source-run.js';
import { exportEntry, writeJournal } from './journal-helpers.js';
import { sourceContract } from './source-contract.js';

sourceContract('journal', {
  resumable: true,
  async create(dir, _positions) {
    return createJournalSource({ directory: dir, node: 'node-1', restartDelayMs: 100 });
  },
  async produce(dir, lines) {
    await writeJournal(
      dir,
      lines.map((l) => exportEntry({ MESSAGE: l, SYSLOG_IDENTIFIER: 'contract', PRIORITY: '6' })),
    );
  },
});

type Run = SourceRun;

const run = (source: Source, positions: Positions = {}): Run => runSource(source, positions);

const records = (r: Run) => r.batches.flatMap((b) => b.records);

async function until(what: string, cond: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('journal source', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kj-journal-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const fresh = async (name: string) => {
    const d = join(dir, name);
    await mkdir(d);
    return d;
  };

  test('keeps journal fields as attributes, kind=log labels, microseconds as nanoseconds', async () => {
    const d = await fresh('fields');
    await writeJournal(d, [
      exportEntry(
        {
          MESSAGE: 'Started kubelet.',
          _SYSTEMD_UNIT: 'kubelet.service',
          SYSLOG_IDENTIFIER: 'kubelet',
          PRIORITY: '6',
          _HOSTNAME: 'worker-7',
          _PID: '4242',
        },
        1_700_000_000_123_456n,
      ),
      exportEntry({ MESSAGE: 'first line\nsecond line', SYSLOG_IDENTIFIER: 'multi' }, 1_700_000_001_000_000n),
    ]);
    const r = run(createJournalSource({ directory: d, node: 'worker-7' }));
    await until('two records', () => records(r).length >= 2);
    await r.stop();
    const [a, b] = records(r);
    assert.equal(a?.timestamp, 1_700_000_000_123_456_000n);
    assert.equal(a?.body, 'Started kubelet.');
    assert.deepEqual(a?.labels, { kind: 'log', source: 'journal', node: 'worker-7' });
    assert.equal(a?.attributes.systemd_unit, 'kubelet.service');
    assert.equal(a?.attributes.syslog_identifier, 'kubelet');
    assert.equal(a?.attributes.priority, '6');
    assert.equal(a?.attributes.hostname, 'worker-7');
    assert.equal(a?.attributes.pid, '4242');
    // journalctl prints a multi-line message as a binary-safe field.
    assert.equal(b?.body, 'first line\nsecond line');
    const pos = r.positions()[JOURNAL_POSITION_KEY] as { cursor: string };
    assert.match(pos.cursor, /^s=[0-9a-f]+;i=2;/);
  });

  test('field matches select entries (SYSLOG_IDENTIFIER=kata, OR with +)', async () => {
    const d = await fresh('matches');
    await writeJournal(d, [
      exportEntry({
        MESSAGE: 'containerd 1',
        SYSLOG_IDENTIFIER: 'containerd',
        _SYSTEMD_UNIT: 'containerd.service',
      }),
      exportEntry({ MESSAGE: 'kata 1', SYSLOG_IDENTIFIER: 'kata', _SYSTEMD_UNIT: 'containerd.service' }),
      exportEntry({ MESSAGE: 'sshd 1', SYSLOG_IDENTIFIER: 'sshd', _SYSTEMD_UNIT: 'ssh.service' }),
      exportEntry({ MESSAGE: 'kata-runtime 1', SYSLOG_IDENTIFIER: 'kata-runtime' }),
    ]);
    const r = run(createJournalSource({ directory: d, node: 'n', matches: ['SYSLOG_IDENTIFIER=kata'] }));
    await until('kata record', () => records(r).length >= 1);
    await new Promise((res) => setTimeout(res, 300));
    await r.stop();
    assert.deepEqual(
      records(r).map((x) => x.body),
      ['kata 1'],
    );
    const r2 = run(
      createJournalSource({
        directory: d,
        node: 'n',
        matches: [
          'SYSLOG_IDENTIFIER=kata',
          'SYSLOG_IDENTIFIER=kata-runtime',
          '+',
          '_SYSTEMD_UNIT=ssh.service',
        ],
      }),
    );
    await until('three records', () => records(r2).length >= 3);
    await new Promise((res) => setTimeout(res, 300));
    await r2.stop();
    assert.deepEqual(
      records(r2).map((x) => x.body),
      ['kata 1', 'sshd 1', 'kata-runtime 1'],
    );
    assert.throws(
      () => createJournalSource({ node: 'n', matches: ['--since=yesterday'] }),
      /expected FIELD=value/,
    );
  });

  test('parses Kata logfmt and JSON messages into kata_* attributes', async () => {
    const d = await fresh('kata');
    const logfmt =
      'time="2020-02-21T10:31:27.810781647Z" level=info msg="release sandbox" arch=amd64 command=state ' +
      'container=7cdd3166 name=kata-runtime pid=14314 sandbox=1c3e77ca source=virtcontainers subsystem=sandbox';
    const json = JSON.stringify({
      level: 'warning',
      msg: 'kill failed',
      source: 'runtime',
      sandbox: 'abc',
      EndpointProperties: { Iface: { MTU: 1460 } },
    });
    await writeJournal(d, [
      exportEntry({ MESSAGE: logfmt, SYSLOG_IDENTIFIER: 'kata-runtime', _PID: '14314' }),
      exportEntry({ MESSAGE: json, SYSLOG_IDENTIFIER: 'kata' }),
      exportEntry({ MESSAGE: 'level=info msg="not kata"', SYSLOG_IDENTIFIER: 'crio' }),
    ]);
    const r = run(createJournalSource({ directory: d, node: 'n' }));
    await until('three records', () => records(r).length >= 3);
    await r.stop();
    const [a, b, c] = records(r);
    assert.equal(a?.body, logfmt);
    assert.equal(a?.attributes.kata_level, 'info');
    assert.equal(a?.attributes.kata_msg, 'release sandbox');
    assert.equal(a?.attributes.kata_sandbox, '1c3e77ca');
    assert.equal(a?.attributes.kata_source, 'virtcontainers');
    assert.equal(a?.attributes.kata_subsystem, 'sandbox');
    assert.equal(a?.attributes.kata_pid, '14314');
    assert.equal(a?.attributes.kata_time, '2020-02-21T10:31:27.810781647Z');
    assert.equal(a?.attributes.pid, '14314');
    assert.equal(b?.attributes.kata_level, 'warning');
    assert.equal(b?.attributes.kata_msg, 'kill failed');
    assert.equal(b?.attributes.kata_EndpointProperties_Iface_MTU, '1460');
    assert.equal(c?.attributes.kata_level, undefined, 'only Kata components are parsed');
  });

  test('resumes after the saved cursor across a restart', async () => {
    const d = await fresh('resume');
    await writeJournal(d, [exportEntry({ MESSAGE: 'one' }), exportEntry({ MESSAGE: 'two' })]);
    const r1 = run(createJournalSource({ directory: d, node: 'n' }));
    await until('two records', () => records(r1).length >= 2);
    await r1.stop();
    const saved = r1.positions();
    await writeJournal(d, [exportEntry({ MESSAGE: 'three' })]);
    const r2 = run(createJournalSource({ directory: d, node: 'n' }), saved);
    await until('one record', () => records(r2).length >= 1);
    await new Promise((res) => setTimeout(res, 300));
    await r2.stop();
    assert.deepEqual(
      records(r2).map((x) => x.body),
      ['three'],
    );
    assert.deepEqual(r2.problems, []);
  });

  test('a cursor that no longer exists is reported; reading goes on from the next entry', async () => {
    const d = await fresh('lost');
    await writeJournal(d, [exportEntry({ MESSAGE: 'old 1' }), exportEntry({ MESSAGE: 'old 2' })]);
    const r1 = run(createJournalSource({ directory: d, node: 'n' }));
    await until('two records', () => records(r1).length >= 2);
    await r1.stop();
    const saved = r1.positions();
    // The journal is vacuumed: the file with the saved entry is gone, a new one (new seqnum id) follows.
    await unlink(join(d, 'remote.journal'));
    await writeJournal(
      d,
      [exportEntry({ MESSAGE: 'new 1' }), exportEntry({ MESSAGE: 'new 2' })],
      'next.journal',
    );
    const r2 = run(createJournalSource({ directory: d, node: 'n' }), saved);
    await until('two records', () => records(r2).length >= 2);
    await new Promise((res) => setTimeout(res, 300));
    await r2.stop();
    assert.deepEqual(
      records(r2).map((x) => x.body),
      ['new 1', 'new 2'],
    );
    assert.deepEqual(
      r2.problems.map((p) => p.reason),
      ['cursor_lost'],
    );
  });

  test('a cursor journalctl refuses is reported; reading restarts from the oldest entry', async () => {
    const d = await fresh('refused');
    await writeJournal(d, [exportEntry({ MESSAGE: 'a' }), exportEntry({ MESSAGE: 'b' })]);
    const r = run(createJournalSource({ directory: d, node: 'n' }), {
      [JOURNAL_POSITION_KEY]: { cursor: 'not-a-cursor' },
    });
    await until('two records', () => records(r).length >= 2);
    await r.stop();
    assert.deepEqual(
      records(r).map((x) => x.body),
      ['a', 'b'],
    );
    assert.equal(r.problems[0]?.reason, 'cursor_lost');
    assert.match(r.problems[0]?.message ?? '', /oldest entry/);
  });

  test('--since of a refused cursor is its own time', () => {
    assert.equal(sinceOfCursor('s=1;i=2;b=3;m=1;t=59f13862c7cf5;x=9'), '@1582281087.810805');
    assert.equal(sinceOfCursor('garbage'), undefined);
  });

  test('a corrupt entry is reported and skipped (journalctl stand-in printing broken framing)', async () => {
    const d = await fresh('corrupt');
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(3n);
    const stream = Buffer.concat([
      Buffer.from('__CURSOR=s=1;i=1\n__REALTIME_TIMESTAMP=1700000000000000\nMESSAGE=good 1\n\n'),
      // A binary field whose size does not match its bytes.
      Buffer.from('__CURSOR=s=1;i=2\n__REALTIME_TIMESTAMP=1700000000000001\nMESSAGE\n'),
      size,
      Buffer.from('too long\n\n'),
      // No time at all.
      Buffer.from('__CURSOR=s=1;i=3\nMESSAGE=no time\n\n'),
      Buffer.from('__CURSOR=s=1;i=4\n__REALTIME_TIMESTAMP=1700000000000003\nMESSAGE=good 2\n\n'),
    ]);
    await writeFile(join(d, 'stream.bin'), stream);
    const fake = join(d, 'journalctl');
    await writeFile(fake, `#!/bin/sh\ncat '${join(d, 'stream.bin')}'\nexec sleep 30\n`);
    await chmod(fake, 0o755);
    const r = run(createJournalSource({ node: 'n', journalctl: fake }));
    await until('two records', () => records(r).length >= 2);
    await r.stop();
    assert.deepEqual(
      records(r).map((x) => x.body),
      ['good 1', 'good 2'],
    );
    assert.deepEqual(
      r.problems.map((p) => p.reason),
      ['corrupt_entry', 'corrupt_entry'],
    );
    assert.deepEqual(r.positions()[JOURNAL_POSITION_KEY], { cursor: 's=1;i=4' });
  });
});
