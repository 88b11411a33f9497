/**
 * Unmasking text that arrives in pieces: placeholders may be split across pieces, so the tail of what has arrived that
 * could still become a placeholder is held back, at most one placeholder's length, and everything before it goes out
 * unmasked at once. Nothing else is buffered: the look-behind window is bounded by the longest placeholder.
 */
import { unmask } from '../policy/detectors.js';

export class HeldText {
  private readonly held = new Map<string, string>();
  private readonly tags: readonly string[];
  private readonly longest: number;

  constructor(masks: ReadonlyMap<string, string>) {
    this.tags = [...masks.keys()];
    this.longest = this.tags.reduce((n, t) => Math.max(n, t.length), 0);
  }

  /** What of (held + piece) can go out now, unmasked with `table`; the rest waits for the next piece of `key`. */
  push(key: string, piece: string, table: ReadonlyMap<string, string>): string {
    const text = (this.held.get(key) ?? '') + piece;
    const cut = this.holdFrom(text);
    if (cut < text.length) this.held.set(key, text.slice(cut));
    else this.held.delete(key);
    return unmask(text.slice(0, cut), table);
  }

  /** Everything still held for `key` (the field has ended): it was not a placeholder after all. */
  flush(key: string): string {
    const rest = this.held.get(key) ?? '';
    this.held.delete(key);
    return rest;
  }

  /** Keys with held text, for flushing at a choice's end or the stream's end. */
  heldKeys(): string[] {
    return [...this.held.keys()];
  }

  /** Where a possible placeholder start begins: only the last `[` can open one that runs to the end. */
  private holdFrom(text: string): number {
    const at = text.lastIndexOf('[');
    if (at < 0 || text.length - at >= this.longest) return text.length;
    const tail = text.slice(at);
    // A proper prefix only: a whole placeholder goes out (unmasked) now.
    return this.tags.some((t) => t.length > tail.length && t.startsWith(tail)) ? at : text.length;
  }
}
