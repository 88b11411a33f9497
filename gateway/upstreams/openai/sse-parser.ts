/** Incremental SSE parser: bytes in, `data:` payloads out, one per event, with no buffering beyond one event. */

export class SseParser {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private dataLines: string[] = [];

  /** Feeds bytes; returns the data payloads of every event completed by them. */
  push(chunk: Uint8Array): string[] {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl < 0) break;
      let line = this.buffer.slice(start, nl);
      start = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (this.dataLines.length > 0) out.push(this.dataLines.join('\n'));
        this.dataLines = [];
      } else if (line.startsWith('data:')) {
        this.dataLines.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      }
      // Comments (":"), event:, id:, retry: carry nothing the OpenAI format uses.
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** Whatever a well-behaved stream left unterminated (a last event without its blank line). */
  end(): string[] {
    const tail = this.push(new TextEncoder().encode('\n\n'));
    return tail;
  }
}
