/**
 * @module A container runtime's split lines joined again: CRI's `P` pieces and docker json-file's
 * entries without a final newline belong to the next full line of the same stream, which keeps the
 * time of the first piece.
 */

interface Open {
  readonly ts: bigint;
  readonly parts: string[];
}

export class SplitLines {
  private readonly open = new Map<string, Open>();

  constructor(private readonly emit: (stream: string, ts: bigint, line: string) => void) {}

  /** One piece of `stream`'s current line; `last` ends the line, which is then emitted. */
  piece(stream: string, ts: bigint, text: string, last: boolean): void {
    const open = this.open.get(stream);
    if (!last) {
      if (open) open.parts.push(text);
      else this.open.set(stream, { ts, parts: [text] });
      return;
    }
    if (open) {
      this.open.delete(stream);
      open.parts.push(text);
      this.emit(stream, open.ts, open.parts.join(''));
    } else {
      this.emit(stream, ts, text);
    }
  }

  /** Whether pieces are held. */
  pending(): boolean {
    return this.open.size > 0;
  }

  /** Emits the pieces still held (a file that ends inside a split line: rotated mid-line). */
  flush(): void {
    for (const [stream, p] of this.open) this.emit(stream, p.ts, p.parts.join(''));
    this.open.clear();
  }
}
