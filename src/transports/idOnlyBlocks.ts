/**
 * eventsource-parser 3 drops a block that has an `id:` field but no `data:` (it dispatches
 * nothing), yet the WHATWG rules make such a block set the last event ID, which a reconnect
 * must send. This scanner watches line structure only for that case; everything else is the
 * parser's job. (eventsource-parser 4 reports it through `onId`, but needs Node 22.)
 */
export class IdOnlyBlockScanner {
  private partial = '';
  private skipLeadingLF = false;
  private blockId: string | undefined;
  private blockHasData = false;

  constructor(private readonly onIdOnlyBlock: (id: string) => void) {}

  feed(text: string): void {
    let position = 0;
    if (this.skipLeadingLF && text.charCodeAt(0) === 10) position = 1;
    this.skipLeadingLF = false;
    let nextCR = text.indexOf('\r', position);
    let nextLF = text.indexOf('\n', position);
    while (position < text.length) {
      if (nextCR !== -1 && nextCR < position) nextCR = text.indexOf('\r', position);
      if (nextLF !== -1 && nextLF < position) nextLF = text.indexOf('\n', position);
      const end = nextCR === -1 ? nextLF : nextLF === -1 ? nextCR : Math.min(nextCR, nextLF);
      if (end === -1) {
        this.keepPartial(text.slice(position));
        return;
      }
      this.line(this.partial + text.slice(position, end));
      this.partial = '';
      position = end + 1;
      if (text.charCodeAt(end) === 13) {
        if (end + 1 === text.length) this.skipLeadingLF = true;
        else if (text.charCodeAt(end + 1) === 10) position++;
      }
    }
  }

  /** a line can be megabytes of data; only its field name and short id values matter here */
  private keepPartial(piece: string): void {
    const joined = this.partial + piece;
    this.partial = joined.length > 1024 && !joined.startsWith('id') ? joined.slice(0, 8) : joined;
  }

  private line(line: string): void {
    if (line === '') {
      if (this.blockId !== undefined && !this.blockHasData) this.onIdOnlyBlock(this.blockId);
      this.blockId = undefined;
      this.blockHasData = false;
      return;
    }
    if (line.startsWith('data')) {
      if (line.length === 4 || line.charCodeAt(4) === 58) this.blockHasData = true;
      return;
    }
    if (line.startsWith('id') && (line.length === 2 || line.charCodeAt(2) === 58)) {
      const value = line.slice(line.charCodeAt(3) === 32 ? 4 : 3);
      if (!value.includes('\0')) this.blockId = value;
    }
  }
}
