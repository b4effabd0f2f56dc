import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unpackPiece } from '../../../src/api/receivers/decode-pool.js';
import { JournalPacker, JournalTables } from '../../../src/api/receivers/journal-packer.js';
import { ExportParser } from '../../../src/formats/journal-export.js';
import { ENTRY_RECORD_FIELDS, entryRecord } from '../../../src/formats/journal-records.js';
import { SetInterner } from '../../../src/model/intern.js';
import type { Attributes, Labels, LogRecord } from '../../../src/model/record.js';

function binary(name: string, value: Buffer): Buffer {
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(value.length));
  return Buffer.concat([Buffer.from(`${name}\n`), size, value, Buffer.from('\n')]);
}

/** A small deterministic generator (the same stream every run). */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
}

/**
 * Entries of every kind the packer reads: repeated and new values of every attribute field, fields
 * missing, repeated (the last wins), too long to keep, or binary (newlines, NUL, bytes that are not UTF-8, accents),
 * Kata lines in logfmt and JSON, times of 1 to 20 digits and bad ones, corrupt frames.
 */
function body(n: number, seed: number): Buffer {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const hosts = ['node-a', 'node-b', 'nœud-c', ''];
  const units = ['kubelet.service', 'containerd.service', 'sshd.service'];
  const ids = ['kubelet', 'containerd', 'kata', 'kata-runtime', 'containerd-shim-kata-v2', 'sshd', 'kataX'];
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const fields: Buffer[] = [];
    const text = (k: string, v: string) => fields.push(Buffer.from(`${k}=${v}\n`));
    const roll = r();
    if (roll < 0.03) text('__REALTIME_TIMESTAMP', pick(['', '12a4', '-5', '123456789012345678901']));
    else if (roll < 0.06)
      text('__REALTIME_TIMESTAMP', pick(['0', '7', '18446744073709551615', '9007199254740993']));
    else if (roll > 0.02)
      text('__REALTIME_TIMESTAMP', String(1_700_000_000_000_000 + i * 1000 + Math.floor(r() * 999)));
    text('__CURSOR', `s=${i}`);
    if (r() < 0.9) text('_HOSTNAME', pick(hosts));
    if (r() < 0.7) text('_SYSTEMD_UNIT', pick(units));
    if (r() < 0.1) text('_SYSTEMD_UNIT', `u${Math.floor(r() * 50)}.service`);
    const id = pick(ids);
    if (r() < 0.9) text('SYSLOG_IDENTIFIER', id);
    if (r() < 0.2) text('PRIORITY', String(Math.floor(r() * 3)));
    if (r() < 0.1) text('_PID', String(Math.floor(r() * 100)));
    if (r() < 0.3) text('_BOOT_ID', 'b0'.repeat(16));
    if (r() < 0.2) fields.push(binary('_COMM', Buffer.from([0x63, 0xff, 0x0a])));
    if (r() < 0.1) text('CONTAINER_NAME', `c${Math.floor(r() * 3)}`);
    // Values too long to be kept by the tables: the same one again, and new ones.
    const long = r();
    if (long < 0.05) text('_SYSTEMD_USER_UNIT', 'L'.repeat(1100));
    else if (long < 0.1) text('_SYSTEMD_USER_UNIT', `${'N'.repeat(1100)}${i}`);
    const m = r();
    if (m < 0.3) text('MESSAGE', `level=info msg="started ${i}" source=virtcontainers pid=${i}`);
    else if (m < 0.4) text('MESSAGE', `{"level":"warn","msg":"json ${i}","nested":{"a":[1,2]}}`);
    else if (m < 0.5) fields.push(binary('MESSAGE', Buffer.from(`two\nlines ${i}\u0000 é \xff`, 'latin1')));
    else if (m < 0.55) fields.push(binary('MESSAGE', Buffer.from(`ütf ${i} ✓`)));
    else if (m < 0.95) text('MESSAGE', `plain line ${i} ${'x'.repeat(Math.floor(r() * 40))}`);
    if (r() < 0.05) text('MESSAGE', `second message ${i}`);
    if (r() < 0.02) fields.push(Buffer.from('bad name!=x\n'));
    if (r() < 0.02) fields.push(Buffer.from('MESSAGE\n\x05\x00\x00\x00\x00\x00\x00\x00abc\n'));
    parts.push(...fields, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** The records the agent's path makes: ExportParser's entries through entryRecord. */
function expected(text: Buffer, observed: bigint): { records: LogRecord[]; corrupt: number } {
  const p = new ExportParser({ keep: new Set(ENTRY_RECORD_FIELDS) });
  const records: LogRecord[] = [];
  let corrupt = 0;
  for (const item of [...p.push(text), ...p.end()]) {
    if ('corrupt' in item) {
      corrupt++;
      continue;
    }
    const host = item.entry.get('_HOSTNAME') ?? '';
    const labels: Labels = { kind: 'log', source: 'journal', ...(host !== '' ? { node: host } : {}) };
    const rec = entryRecord(item.entry, { labels, observed });
    if (rec) records.push(rec);
    else corrupt++;
  }
  return { records, corrupt };
}

/** The packer's records over `text` cut into pieces at `cuts`, unpacked as the handler does. */
function packed(text: Buffer, cuts: number[], observed: bigint, tables = new JournalTables()) {
  const packer = new JournalPacker(tables);
  const labels = new SetInterner<Labels>();
  const attributes = new SetInterner<Attributes>();
  const records: LogRecord[] = [];
  let corrupt = 0;
  const reasons: string[] = [];
  let from = 0;
  for (const [i, to] of [...cuts, text.length].entries()) {
    const piece = unpackPiece(
      packer.push(text.subarray(from, to), observed, i === cuts.length, 1 << 20),
      labels,
      attributes,
    );
    from = to;
    for (const r of piece.records) records.push({ ...r, attributes: r.attributes ?? {} } as LogRecord);
    corrupt += piece.corrupt;
    reasons.push(...piece.reasons);
    assert.deepEqual(
      [...piece.lineBytes!],
      piece.records.map((r) => Buffer.byteLength(r.body)),
    );
  }
  return { records, corrupt, reasons };
}

/** Records compared with their attributes' names in order (the WAL writes them in that order). */
const view = (records: LogRecord[]) =>
  records.map((r) => ({ ...r, attributes: Object.entries(r.attributes ?? {}) }));

test('journal packer: the same records as the entries through entryRecord, however the body is cut', () => {
  for (const seed of [1, 2, 3]) {
    const text = body(400, seed);
    const want = expected(text, 7n);
    assert.ok(want.records.length > 300 && want.corrupt > 5, `seed ${seed}: a mix`);
    const r = rng(seed * 7);
    for (const pieces of [1, 2, 7, 40]) {
      const cuts = Array.from({ length: pieces - 1 }, () => Math.floor(r() * text.length)).sort(
        (a, b) => a - b,
      );
      const got = packed(text, cuts, 7n);
      assert.deepEqual(view(got.records), view(want.records), `seed ${seed}, cuts ${cuts}`);
      assert.equal(got.corrupt, want.corrupt);
    }
    // Cut at every byte of the first entries too (a field or a time split anywhere).
    for (let cut = 1; cut < 600; cut += 7) {
      const got = packed(text, [cut], 7n);
      assert.deepEqual(view(got.records), view(want.records), `seed ${seed}, cut at ${cut}`);
    }
  }
});

test('journal packer: tables that are dropped when full give the same records; shared sets are one object', () => {
  const text = body(600, 9);
  const want = expected(text, 1n);
  const small = new JournalTables(5, 3);
  const cuts = [text.length >> 2, text.length >> 1, (text.length * 3) >> 2];
  const got = packed(text, cuts, 1n, small);
  assert.deepEqual(view(got.records), view(want.records));
  // A unit's fields, in every piece: one object across the pieces.
  const unit = Buffer.from(
    Array.from(
      { length: 200 },
      (_, i) =>
        `__REALTIME_TIMESTAMP=${1000 + i}\n_HOSTNAME=h${i % 2}\n_SYSTEMD_UNIT=u.service\nMESSAGE=m${i}\n\n`,
    ).join(''),
  );
  const shared = packed(unit, [1000, 3000, 5000], 1n).records.filter((r) => r.attributes.hostname === 'h1');
  assert.equal(shared.length, 100);
  assert.equal(new Set(shared.map((r) => r.attributes)).size, 1, 'one object across the pieces');
  assert.deepEqual(shared[0]!.attributes, { systemd_unit: 'u.service', hostname: 'h1' });
});

test('journal packer: corrupt entries named, an entry over the limit is a 413', () => {
  const packer = new JournalPacker(new JournalTables());
  const piece = packer.push(
    Buffer.from(
      'MESSAGE=no time\n\n__REALTIME_TIMESTAMP=1x\nMESSAGE=bad\n\nbad name=1\n\n__REALTIME_TIMESTAMP=5\n',
    ),
    3n,
    true,
    1 << 20,
  );
  assert.equal(piece.corrupt, 3);
  assert.deepEqual(piece.reasons, [
    'entry without a valid __REALTIME_TIMESTAMP',
    'entry without a valid __REALTIME_TIMESTAMP',
    'bad field name "bad name"',
  ]);
  assert.deepEqual(piece.packed.lines, ['']);
  assert.deepEqual([...piece.packed.timestamps], [5000n]);
  const limited = new JournalPacker(new JournalTables());
  limited.push(Buffer.from('MESSAGE=0123'), 1n, false, 20);
  assert.throws(
    () => limited.push(Buffer.from('456789abcdefghij'), 1n, false, 20),
    /journal entry too large: limit is 20 bytes/,
  );
});
