/**
 * @module A generic file tailer for the agent's file sources (pod logs, the audit log): finds files by
 * polling (a directory scan every `pollMs`), reads what is appended in bounded chunks, and hands the
 * lines to a per-file handler that turns them into records, emitted in bounded batches with the
 * positions they reach.
 *
 * - Files are followed by identity (device and inode), not name: a file renamed by rotation is read
 *   on through the descriptor held open, drained to its end, and only then let go (position `null`).
 * - A position is `{dev, ino, path, offset, headLen, head, tail}`: `head` hashes the file's first
 *   bytes and `tail` the bytes just before `offset`, so a restart resumes exactly, and a reused inode
 *   or a truncated file is noticed (reported and read from its start).
 * - A gzipped rotated file is matched to the file it compresses by the hash of its first bytes: if
 *   that file is still held (or was let go at offset N), the `.gz` is skipped (or read from N); a
 *   `.gz` that matches nothing is read whole. A file let go leaves a tombstone position
 *   (`gone:<head hash>`: its identity, final offset and fingerprints) until its `.gz` appears or ten
 *   minutes pass, so a `.gz` made while the agent was down is read on from exactly where the file
 *   was left.
 * - On restart, a saved position no file takes (its file gone, or renamed, replaced or removed
 *   between the first scan's listing, stat and open: a restart in the middle of a rotation) becomes
 *   a tombstone before any `.gz` is placed. A file seen for the first time is read from its start
 *   unless it is a file let go (same device and inode, same bytes up to the tombstone's offset):
 *   then it resumes there. So a restart at any moment of a rotation and compression neither loses
 *   nor repeats an acknowledged line (test/sources/file-tailer.test.ts, test/sources/pods.test.ts).
 * - A saved offset never goes past pieces of a split line (CRI `P`) still held: a restart reads them
 *   again. (A complete line of the other stream read meanwhile is then read twice: rare, accepted.)
 * - Faults (a missing directory, a line over `maxLineBytes`, a binary file, a file gone before it
 *   could be opened, a corrupt gzip) are reported through `ctx.problem` and skipped.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import type { LogRecord } from '../../model/record.js';
import { sleep } from '../../util/sleep.js';
import type { Positions, SourceContext, StageBytes } from '../source.js';
import { LineSplitter } from './split.js';

/** Bytes hashed for the head and the tail fingerprints. */
export const FINGERPRINT_BYTES = 1024;

/** Turns one file's lines into records. */
export interface FileHandler {
  /** One line, without its `\n`. */
  line(text: string, out: LogRecord[]): void;
  /**
   * Optional: the same line as valid UTF-8 bytes, staged through `stage` without a string when the
   * handler can; false to have it passed to `line`.
   */
  bytes?(buf: Buffer, start: number, stop: number, stage: StageBytes): boolean;
  /** True while pieces of a split line are held: positions then stay before them. */
  pending(): boolean;
  /** The file is let go (or ends, for a `.gz`): emit what is held. */
  end(out: LogRecord[]): void;
}

export type Report = (reason: string, message: string) => void;

export interface TailerOptions {
  /** Every file to follow, by path; rejects with ENOENT when the directory is missing. */
  discover(): Promise<readonly string[]>;
  /** A handler for a newly followed file (also after a truncation). */
  handler(path: string, report: Report): FileHandler;
  /** A rotated file (deleting it is rotation's business, not a problem to report); default `.gz`. */
  isRotated?(path: string): boolean;
  /** Reading order (rotated files before the live one); default by path. */
  compare?(a: string, b: string): number;
  /**
   * On the agent's first start (no saved positions): read what the files already hold (default),
   * or start at their ends and skip existing `.gz` files. Files appearing later are always read whole.
   */
  fromStart?: boolean;
  pollMs?: number;
  /** Longer lines are reported `too_long` and skipped. Default 1 MiB. */
  maxLineBytes?: number;
  chunkBytes?: number;
  batchLines?: number;
  batchBytes?: number;
}

export interface FilePosition {
  readonly dev: string;
  readonly ino: string;
  readonly path: string;
  /** Bytes consumed (decompressed bytes for a `.gz`). */
  readonly offset: number;
  readonly headLen: number;
  readonly head: string;
  readonly tail?: string;
  readonly gz?: boolean;
  /** A `.gz` read to its end or skipped. */
  readonly done?: boolean;
  /**
   * A tombstone: a file let go at `offset`, kept until its `.gz` shows up (read on from `offset`),
   * the file itself shows up again under another name (resumed at `offset`), or for ten minutes,
   * so neither is read twice.
   */
  readonly gone?: boolean;
}

interface LetGo {
  /** Its tombstone's key among the positions (`gone:<head>`). */
  readonly key: string;
  /** Its identity (empty in tombstones saved by older versions): a renamed twin found later resumes. */
  readonly dev: string;
  readonly ino: string;
  readonly head: string;
  readonly headLen: number;
  readonly offset: number;
  /** The hash of the bytes just before `offset`. */
  readonly tail?: string;
  readonly at: number;
  /** Reported as deleted unless a `.gz` of it shows up first (then it was rotation). */
  deleted?: string;
}

/** How long a live file gone from the directory may wait for its `.gz` before it counts as deleted. */
const DELETED_GRACE_MS = 1000;

interface Tracked {
  readonly key: string;
  readonly dev: string;
  readonly ino: string;
  path: string;
  readonly gz: boolean;
  fh?: FileHandle;
  stream?: ReadStream;
  gunzip?: Gunzip;
  iter?: AsyncIterator<Buffer>;
  /** Bytes fed to the splitter (or skipped). */
  readOffset: number;
  /** Offset after the last line at which nothing was held: what a position saves. */
  committed: number;
  /** `.gz`: decompressed bytes to pass over first, and decompressed bytes seen. */
  skip: number;
  gzPos: number;
  splitter: LineSplitter;
  handler: FileHandler;
  /** A binary file or a skipped `.gz`: followed for its identity only. */
  ignored: boolean;
  done: boolean;
  dirty: boolean;
  missing: number;
  vanishing: boolean;
  /** Seen under another name since it was found (rotation). */
  renamed: boolean;
  /** `.gz` head hash, once known. */
  headLen: number;
  head: string;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('base64url');

async function readRange(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/**
 * The head and tail fingerprints of a plain file read up to `offset`: the hashes of its first bytes
 * and of the bytes just before `offset` (the same bytes, read once, while `offset` is that small).
 */
async function fingerprints(
  fh: FileHandle,
  offset: number,
): Promise<{ headLen: number; head: string; tail: string }> {
  const headLen = Math.min(FINGERPRINT_BYTES, offset);
  const head = sha(await readRange(fh, 0, headLen));
  const tail = offset <= FINGERPRINT_BYTES ? head : sha(await readRange(fh, offset - headLen, headLen));
  return { headLen, head, tail };
}

/** The first `n` decompressed bytes of a gzip file (fewer if it is shorter). */
async function gzHead(path: string, n: number): Promise<Buffer> {
  const stream = createReadStream(path);
  const gunzip = createGunzip();
  stream.on('error', (e) => gunzip.destroy(e));
  stream.pipe(gunzip);
  const parts: Buffer[] = [];
  let len = 0;
  try {
    for await (const c of gunzip as AsyncIterable<Buffer>) {
      parts.push(c);
      len += c.length;
      if (len >= n) break;
    }
  } finally {
    gunzip.destroy();
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, n);
}

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e
    ? String((e as { code: unknown }).code)
    : undefined;
}

function isFilePosition(v: unknown): v is FilePosition {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p.offset === 'number' && typeof p.head === 'string' && typeof p.headLen === 'number';
}

/** Runs the tailer until `ctx.signal` aborts. */
export async function runTailer(ctx: SourceContext, opts: TailerOptions): Promise<void> {
  return new Tailer(ctx, opts).run();
}

class Tailer {
  private readonly ctx: SourceContext;
  private readonly opts: TailerOptions;
  private readonly maxLine: number;
  private readonly chunk: number;
  private readonly batchLines: number;
  private readonly batchBytes: number;
  private readonly tracked = new Map<string, Tracked>();
  private readonly saved = new Map<string, FilePosition>();
  private letGo: LetGo[] = [];
  /** Positions for the next batch besides those of the files followed (`null` deletes). */
  private readonly extra = new Map<string, FilePosition | null>();
  /** Records of the batch not yet staged (those of the chunk being read), and how many were. */
  private records: LogRecord[] = [];
  private staged = 0;
  private bytes = 0;
  private firstScan = true;
  private readonly atEnd: boolean;
  private dirMissing = false;
  private readonly buf: Buffer;

  constructor(ctx: SourceContext, opts: TailerOptions) {
    this.ctx = ctx;
    this.opts = opts;
    this.maxLine = opts.maxLineBytes ?? 1 << 20;
    // 64 KiB reads. A chunk's lines and records are young objects until the chunk is staged: with
    // 256 KiB reads they outlived young-generation collections, and the agent took a quarter more
    // CPU and 25 MiB more RSS (bench, agent phase), although fewer reads cost less in themselves.
    this.chunk = opts.chunkBytes ?? 64 << 10;
    // Batches of 4000 lines or 2 MiB: each is one fsynced frame of the agent's buffer, and with
    // 1000 lines the source spent a third of its time waiting for those fsyncs (bench, agent phase).
    this.batchLines = opts.batchLines ?? 4000;
    this.batchBytes = opts.batchBytes ?? 2 << 20;
    this.buf = Buffer.alloc(this.chunk);
    for (const [k, v] of Object.entries(ctx.positions)) {
      if (!isFilePosition(v)) continue;
      if (v.gone) {
        const { dev, ino, head, headLen, offset, tail } = v;
        this.letGo.push({ key: k, dev, ino, head, headLen, offset, tail, at: Date.now() });
      } else this.saved.set(k, v);
    }
    this.atEnd = opts.fromStart === false && Object.keys(ctx.positions).length === 0;
  }

  private report: Report = (reason, message) => this.ctx.problem({ reason, message });

  async run(): Promise<void> {
    const { signal } = this.ctx;
    try {
      while (!signal.aborted) {
        await this.scan();
        if (signal.aborted) break;
        await this.readAll();
        if (signal.aborted) break;
        await this.flush();
        await sleep(this.opts.pollMs ?? 250, signal);
      }
    } finally {
      for (const t of this.tracked.values()) await this.close(t);
    }
  }

  // --- discovery ---------------------------------------------------------------------------------

  private async scan(): Promise<void> {
    let paths: readonly string[];
    try {
      paths = await this.opts.discover();
      this.dirMissing = false;
    } catch (e) {
      if (!this.dirMissing) {
        this.dirMissing = true;
        const reason = errCode(e) === 'ENOENT' ? 'missing_dir' : 'scan_failed';
        this.report(reason, `cannot list files: ${(e as Error).message}; will keep looking`);
      }
      paths = [];
    }
    const found = new Map<string, { path: string; dev: string; ino: string }>();
    for (const path of paths) {
      try {
        const st = await stat(path, { bigint: true });
        if (!st.isFile()) continue;
        const dev = st.dev.toString();
        const ino = st.ino.toString();
        found.set(`${dev}:${ino}`, { path, dev, ino });
      } catch {
        // Gone between the listing and the stat: the next scan decides.
      }
    }
    // Files already followed: renamed, or gone.
    for (const t of this.tracked.values()) {
      const f = found.get(t.key);
      if (f) {
        if (f.path !== t.path) t.renamed = true;
        t.path = f.path;
        t.missing = 0;
        continue;
      }
      if (t.vanishing) continue;
      t.missing++;
      let unlinked = true;
      try {
        if (t.fh) unlinked = (await t.fh.stat()).nlink === 0;
      } catch {}
      if (unlinked || t.missing >= 3) t.vanishing = true;
    }
    const fresh = [...found.entries()].filter(([k]) => !this.tracked.has(k));
    const isGz = (p: string) => p.endsWith('.gz');
    // Plain files first, so a `.gz` can be matched to the file it compresses.
    for (const [key, f] of fresh.filter(([, f]) => !isGz(f.path)))
      await this.track(key, f.path, f.dev, f.ino);
    // Saved positions of plain files not followed now: gone, or listed but renamed, replaced or
    // removed before they could be opened (a restart in the middle of a rotation), or whose inode a
    // `.gz` now has. Let go, but remembered (before the `.gz` files are placed): their `.gz` reads
    // on from the saved offset, and the file itself, found again under its new name, resumes there.
    this.letGoSaved((p) => !p.gz);
    for (const [key, f] of fresh.filter(([, f]) => isGz(f.path))) await this.track(key, f.path, f.dev, f.ino);
    this.letGoSaved(() => true);
    this.firstScan = false;
    for (const l of this.letGo) {
      if (l.deleted !== undefined && Date.now() - l.at > DELETED_GRACE_MS) {
        this.report('file_deleted', l.deleted);
        l.deleted = undefined;
      }
    }
    const old = Date.now() - 600_000;
    const keep = new Set(this.letGo.filter((l) => l.at > old).slice(-1000));
    for (const l of this.letGo) if (!keep.has(l)) this.extra.set(l.key, null);
    this.letGo = [...keep];
  }

  /** Saved positions (of the first scan) that `which` selects and no file took: let go. */
  private letGoSaved(which: (p: FilePosition) => boolean): void {
    for (const [key, p] of this.saved) {
      if (!which(p)) continue;
      this.forget(p);
      this.extra.set(key, null);
      this.saved.delete(key);
    }
  }

  /** A saved plain file not followed (any more): its `.gz` may still come, or the file again. */
  private forget(p: FilePosition): void {
    if (!p.gz) {
      const { dev, ino, path, head, headLen, offset, tail } = p;
      this.remember({ dev, ino, path, head, headLen, offset, tail });
    }
  }

  /**
   * A file let go at `offset`: a tombstone for its `.gz` (or for the same file found again under
   * another name), saved in the same batch as its `null`.
   */
  private remember(l: Omit<FilePosition, 'gone' | 'gz' | 'done'>, deleted?: string): void {
    if (l.headLen === 0) {
      if (deleted !== undefined) this.report('file_deleted', deleted);
      return;
    }
    const key = `gone:${l.head}`;
    this.letGo = this.letGo.filter((o) => o.key !== key);
    const { dev, ino, head, headLen, offset, tail } = l;
    this.letGo.push({ key, dev, ino, head, headLen, offset, tail, at: Date.now(), deleted });
    this.extra.set(key, { ...l, gone: true });
  }

  /**
   * A plain file seen for the first time that is a file let go earlier (same identity, same bytes
   * up to where it was left; e.g. renamed between a listing and the stat or open that followed):
   * the offset to resume from, its tombstone dropped. Otherwise (a new file, or a reused inode:
   * other bytes) undefined.
   */
  private async resumeLetGo(t: Tracked, fh: FileHandle, size: number): Promise<number | undefined> {
    for (const l of this.letGo) {
      if (l.dev === '' || l.dev !== t.dev || l.ino !== t.ino || size < l.offset) continue;
      if (sha(await readRange(fh, 0, l.headLen)) !== l.head) continue;
      const tailLen = Math.min(FINGERPRINT_BYTES, l.offset);
      if (l.tail !== undefined && sha(await readRange(fh, l.offset - tailLen, tailLen)) !== l.tail) continue;
      this.letGo = this.letGo.filter((o) => o !== l);
      this.extra.set(l.key, null);
      return l.offset;
    }
    return undefined;
  }

  private newTracked(key: string, path: string, dev: string, ino: string, gz: boolean): Tracked {
    return {
      key,
      dev,
      ino,
      path,
      gz,
      readOffset: 0,
      committed: 0,
      skip: 0,
      gzPos: 0,
      splitter: new LineSplitter(this.maxLine),
      handler: this.opts.handler(path, this.report),
      ignored: false,
      done: false,
      dirty: true,
      missing: 0,
      vanishing: false,
      renamed: false,
      headLen: 0,
      head: '',
    };
  }

  private async track(key: string, path: string, dev: string, ino: string): Promise<void> {
    try {
      await this.trackOne(key, path, dev, ino);
    } catch (e) {
      this.report('read_failed', `${path}: ${(e as Error).message}; will try again`);
    }
  }

  private async trackOne(key: string, path: string, dev: string, ino: string): Promise<void> {
    const gz = path.endsWith('.gz');
    const t = this.newTracked(key, path, dev, ino, gz);
    const saved = this.saved.get(key);
    if (gz) {
      if (saved?.gz) this.saved.delete(key);
      await this.placeGz(t, saved);
      this.tracked.set(key, t);
      return;
    }
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      // Gone (or renamed) since the listing: the next scan finds it under its new name, if any.
      if (errCode(e) !== 'ENOENT') this.report('open_failed', `${path}: ${(e as Error).message}`);
      return;
    }
    const st = await fh.stat({ bigint: true });
    if (`${st.dev}:${st.ino}` !== key) {
      // Replaced between the stat and the open: the next scan sees the new file.
      await fh.close();
      return;
    }
    t.fh = fh;
    const size = Number(st.size);
    if (saved && !saved.gz) {
      const at = await this.verify(t, saved, size);
      // Taken (or, if it is not the same file, remembered by `verify` for its `.gz`).
      this.saved.delete(key);
      t.readOffset = t.committed = at;
      t.dirty = at !== saved.offset;
    } else {
      const at = await this.resumeLetGo(t, fh, size);
      if (at !== undefined) t.readOffset = t.committed = at;
      else if (this.firstScan && this.atEnd) t.readOffset = t.committed = size;
    }
    this.tracked.set(key, t);
  }

  /** Where to resume a plain file from its saved position: there, or 0 if it is not the same file. */
  private async verify(t: Tracked, p: FilePosition, size: number): Promise<number> {
    const fh = t.fh!;
    if (size < p.offset) {
      this.forget(p);
      this.report(
        'truncated',
        `${t.path}: ${size} bytes, shorter than the saved offset ${p.offset}; reading from the start`,
      );
      return 0;
    }
    const head = sha(await readRange(fh, 0, p.headLen));
    const tailLen = Math.min(FINGERPRINT_BYTES, p.offset);
    const tail = sha(await readRange(fh, p.offset - tailLen, tailLen));
    if (head !== p.head || (p.tail !== undefined && tail !== p.tail)) {
      this.forget(p);
      this.report(
        'inode_reused',
        `${t.path}: content differs from the saved fingerprint (inode reused or rewritten); reading from the start`,
      );
      return 0;
    }
    return p.offset;
  }

  /** Decides what of a `.gz` to read: resumes, skips it (its file was or is read), or reads it whole. */
  private async placeGz(t: Tracked, saved: FilePosition | undefined): Promise<void> {
    let head: Buffer;
    try {
      head = await gzHead(t.path, FINGERPRINT_BYTES);
    } catch (e) {
      this.report('corrupt_gzip', `${t.path}: ${(e as Error).message}`);
      t.ignored = t.done = true;
      return;
    }
    t.headLen = head.length;
    t.head = sha(head);
    const matches = (len: number, h: string) =>
      len > 0 && len <= head.length && sha(head.subarray(0, len)) === h;
    // The file it compresses, let go (or gone while the agent was down) at some offset: read on from
    // there. This comes first: a `.gz` skipped for a file still held, whose draining a stop cut short,
    // is read on from where that file was left.
    const i = this.letGo.findIndex((l) => matches(l.headLen, l.head));
    if (i >= 0) {
      const resumed = saved?.gz && !saved.done && saved.head === t.head ? saved.offset : 0;
      const from = Math.max(this.letGo[i]!.offset, resumed);
      t.skip = t.readOffset = t.committed = from;
      this.extra.set(this.letGo[i]!.key, null);
      this.letGo.splice(i, 1);
      return;
    }
    if (saved?.gz && (saved.headLen === 0 || (saved.headLen === t.headLen && saved.head === t.head))) {
      if (saved.done) {
        t.ignored = t.done = true;
        t.dirty = false;
      } else t.skip = t.readOffset = t.committed = saved.offset;
      return;
    }
    for (const o of this.tracked.values()) {
      if (o.gz || !o.fh) continue;
      const len = Math.min(FINGERPRINT_BYTES, head.length);
      if (matches(len, sha(await readRange(o.fh, 0, len)))) {
        t.ignored = t.done = true; // still held: read through its descriptor
        o.renamed = true; // compressed: rotation, not a deletion
        return;
      }
    }
    if (this.firstScan && this.atEnd) t.ignored = t.done = true;
  }

  // --- reading -----------------------------------------------------------------------------------

  private async readAll(): Promise<void> {
    const cmp = this.opts.compare ?? ((a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0));
    const order = [...this.tracked.values()].sort((a, b) => cmp(a.path, b.path));
    for (const t of order) {
      if (this.ctx.signal.aborted) return;
      try {
        if (!t.ignored && !t.done) {
          if (t.gz) await this.readGz(t);
          else await this.readPlain(t);
        }
      } catch (e) {
        this.report('read_failed', `${t.path}: ${(e as Error).message}; skipped`);
        t.ignored = true;
      }
      if (this.ctx.signal.aborted) return;
      if (t.vanishing) await this.release(t);
    }
  }

  /** One chunk of `t` into records; emits whenever the batch is full (so batches stay bounded). */
  private async lines(t: Tracked, chunk: Buffer, base: number): Promise<void> {
    if (base === 0 && chunk.subarray(0, 8192).includes(0)) {
      this.report('binary_file', `${t.path}: holds NUL bytes, not a text log; skipped`);
      t.ignored = true;
      return;
    }
    // Flat arrays rather than an object per line: less garbage on the agent's hottest path. A line
    // is bufs[i][starts[i], stops[i]) (bufs[i] null when too long), ending at file offset ends[i].
    const bufs: (Buffer | null)[] = [];
    const starts: number[] = [];
    const stops: number[] = [];
    const ends: number[] = [];
    let first = -1;
    let last = -1;
    t.splitter.push(chunk, base, (buf, start, stop, end) => {
      bufs.push(buf);
      starts.push(start);
      stops.push(stop);
      ends.push(end);
      if (buf === chunk) {
        if (first < 0) first = start;
        last = stop;
      }
    });
    t.readOffset = base + chunk.length;
    t.dirty = true;
    // The byte path (no string per line) when the agent offers it, the handler takes it, and the
    // chunk's lines are valid UTF-8 (checked at once; the text path replaces what is not).
    const stageBytes = this.ctx.stageBytes;
    const fast =
      stageBytes !== undefined &&
      t.handler.bytes !== undefined &&
      (first < 0 || isUtf8(chunk.subarray(first, last)));
    for (let i = 0; i < bufs.length; i++) {
      const buf = bufs[i]!;
      const end = ends[i]!;
      if (buf === null) {
        this.report(
          'too_long',
          `${t.path}: a line before offset ${end} is longer than ${this.maxLine} bytes; skipped`,
        );
      } else {
        const start = starts[i]!;
        const stop = stops[i]!;
        // A line carried over from the last read is a Buffer of its own, checked alone.
        if (fast && (buf === chunk || isUtf8(buf))) {
          // Records from the text path go first: the batch stays in file order.
          if (this.records.length > 0) this.stage();
          if (t.handler.bytes!(buf, start, stop, stageBytes!)) {
            this.staged++;
            this.bytes += stop - start + 64;
          } else this.lineAsText(t, buf.toString('utf8', start, stop));
        } else this.lineAsText(t, buf.toString('utf8', start, stop));
      }
      if (!t.handler.pending()) t.committed = end;
      // Set per line: a flush in the middle of this chunk saved an earlier offset.
      t.dirty = true;
      if (this.full()) await this.flush();
    }
    this.stage();
  }

  private lineAsText(t: Tracked, line: string): void {
    const before = this.records.length;
    t.handler.line(line, this.records);
    for (let j = before; j < this.records.length; j++) this.bytes += this.records[j]!.body.length + 64;
  }

  private full(): boolean {
    return this.staged + this.records.length >= this.batchLines || this.bytes >= this.batchBytes;
  }

  /** Hands the records read so far to the agent, which encodes them at once (no batch of objects). */
  private stage(): void {
    if (this.records.length === 0) return;
    this.staged += this.records.length;
    this.ctx.stage(this.records);
    this.records = [];
  }

  private async readPlain(t: Tracked): Promise<void> {
    const fh = t.fh!;
    const size = Number((await fh.stat()).size);
    if (size < t.readOffset) {
      this.report(
        'truncated',
        `${t.path}: shrank from ${t.readOffset} to ${size} bytes; reading from the start`,
      );
      this.restart(t);
    }
    while (!this.ctx.signal.aborted && !t.ignored) {
      const { bytesRead } = await fh.read(this.buf, 0, this.chunk, t.readOffset);
      if (bytesRead === 0) return;
      await this.lines(t, this.buf.subarray(0, bytesRead), t.readOffset);
    }
  }

  private restart(t: Tracked): void {
    t.readOffset = t.committed = 0;
    t.splitter = new LineSplitter(this.maxLine);
    t.handler = this.opts.handler(t.path, this.report);
    t.dirty = true;
  }

  private async readGz(t: Tracked): Promise<void> {
    if (!t.iter) {
      t.stream = createReadStream(t.path);
      t.gunzip = createGunzip();
      const g = t.gunzip;
      t.stream.on('error', (e) => g.destroy(e));
      t.stream.pipe(g);
      t.iter = (g as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    }
    while (!this.ctx.signal.aborted && !t.ignored) {
      let r: IteratorResult<Buffer>;
      try {
        r = await t.iter.next();
      } catch (e) {
        this.report('corrupt_gzip', `${t.path}: ${(e as Error).message}; skipped the rest`);
        t.done = true;
        break;
      }
      if (r.done) {
        const rest = t.splitter.rest();
        if (rest) t.handler.line(rest.toString('utf8'), this.records);
        t.handler.end(this.records);
        t.committed = t.readOffset;
        t.done = true;
        t.dirty = true;
        break;
      }
      let c = r.value;
      const start = t.gzPos;
      t.gzPos += c.length;
      if (t.gzPos <= t.skip) continue;
      if (start < t.skip) c = c.subarray(t.skip - start);
      const base = Math.max(start, t.skip);
      await this.lines(t, c, base);
    }
    if (t.done || t.ignored) this.closeGz(t);
  }

  private closeGz(t: Tracked): void {
    t.gunzip?.destroy();
    t.stream?.destroy();
    t.gunzip = t.stream = t.iter = undefined;
  }

  /** A file gone from the directory: drained (already, by readAll), then let go. */
  private async release(t: Tracked): Promise<void> {
    if (!t.gz && !t.ignored) {
      const rest = t.splitter.rest();
      if (rest) t.handler.line(rest.toString('utf8'), this.records);
      else if (rest === null)
        this.report('too_long', `${t.path}: its last line is longer than ${this.maxLine} bytes; skipped`);
      t.handler.end(this.records);
      const live = !t.renamed && !(this.opts.isRotated?.(t.path) ?? t.path.endsWith('.gz'));
      const deleted = live ? `${t.path}: deleted while being read; read to its end and let go` : undefined;
      if (t.fh) {
        const offset = t.readOffset;
        const { dev, ino, path } = t;
        this.remember({ dev, ino, path, offset, ...(await fingerprints(t.fh, offset)) }, deleted);
      }
    }
    this.tracked.delete(t.key);
    this.extra.set(t.key, null);
    await this.close(t);
  }

  private async close(t: Tracked): Promise<void> {
    this.closeGz(t);
    const fh = t.fh;
    t.fh = undefined;
    await fh?.close().catch(() => {});
  }

  // --- emitting ----------------------------------------------------------------------------------

  private async position(t: Tracked): Promise<FilePosition> {
    const base = { dev: t.dev, ino: t.ino, path: t.path, offset: t.committed };
    if (t.gz)
      return { ...base, headLen: t.headLen, head: t.head, gz: true, ...(t.done ? { done: true } : {}) };
    return { ...base, ...(await fingerprints(t.fh!, t.committed)) };
  }

  private async flush(): Promise<void> {
    const positions: Record<string, unknown> = {};
    for (const [k, v] of this.extra) positions[k] = v;
    for (const t of this.tracked.values()) {
      if (!t.dirty || (t.ignored && !t.gz) || (!t.gz && !t.fh)) continue;
      positions[t.key] = await this.position(t);
      t.dirty = false;
    }
    this.stage();
    if (this.staged === 0 && Object.keys(positions).length === 0) return;
    const batch = { records: [], positions: positions as Positions };
    this.staged = 0;
    this.bytes = 0;
    this.extra.clear();
    await this.ctx.emit(batch);
  }
}
