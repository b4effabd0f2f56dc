/**
 * @module JSON objects from lines: one per line (JSON lines, eventrouter), or one spread over many
 * lines (`kubectl get events -o json`, pretty-printed). JSON strings cannot hold a raw newline, so
 * a string still open at a line's end means the object is broken: it is reported and dropped there,
 * and one bad object cannot swallow the rest of the file.
 */

export interface JsonObjectSink {
  object(text: string, lineNo: number): void;
  malformed(lineNo: number, reason: string): void;
}

export class JsonObjectAssembler {
  private readonly sink: JsonObjectSink;
  private parts: string[] = [];
  private startLine = 0;
  private depth = 0;

  constructor(sink: JsonObjectSink) {
    this.sink = sink;
  }

  line(text: string, lineNo: number): void {
    if (this.parts.length === 0) {
      const t = text.trim();
      if (t === '') return;
      if (t.charCodeAt(0) !== 0x7b /* { */) {
        this.sink.malformed(lineNo, 'not a JSON object');
        return;
      }
      // The common case, one object per line, needs no scanning.
      if (t.charCodeAt(t.length - 1) === 0x7d /* } */) {
        this.sink.object(t, lineNo);
        return;
      }
      this.startLine = lineNo;
      this.depth = 0;
    }
    this.parts.push(text);
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (c === 0x5c /* \ */) i++;
        else if (c === 0x22 /* " */) inString = false;
      } else if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) this.depth--;
    }
    if (inString) {
      this.sink.malformed(this.startLine, `broken JSON object (unterminated string on line ${lineNo})`);
      this.parts = [];
      return;
    }
    if (this.depth <= 0) {
      const whole = this.parts.join('\n');
      this.parts = [];
      this.sink.object(whole, this.startLine);
    }
  }

  end(): void {
    if (this.parts.length > 0)
      this.sink.malformed(this.startLine, 'JSON object not closed by the end of the file');
    this.parts = [];
  }
}
