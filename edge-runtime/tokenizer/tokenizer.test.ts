/** The written byte-level BPE tokenizer through @huggingface/tokenizers; incremental decoding; stop strings; chat template. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHATML_TEMPLATE, writeByteLevelTokenizer } from './byte-level-bpe.js';
import { IncrementalDecoder } from './incremental-decoder.js';
import { StopMatcher } from './stop-matcher.js';
import { TextTokenizer } from './text-tokenizer.js';

function make(merges: number): TextTokenizer {
  const t = writeByteLevelTokenizer(merges);
  return new TextTokenizer(t.tokenizerJson, { chat_template: CHATML_TEMPLATE, eos_token: '<|im_end|>', bos_token: '<|endoftext|>' }, []);
}

const bytesOnly = make(0);
const withMerges = make(3000);
const samples = ['hello world', 'Zoë écrit à Málaga', '日本語のテキスト', 'emoji 🎉🚀 and ZWJ 👩‍💻', '  leading and trailing  ', 'tabs\tand\nnewlines'];

describe('byte-level BPE tokenizer', () => {
  it('round-trips ASCII, accents, CJK and emoji exactly, with and without merges', () => {
    for (const tok of [bytesOnly, withMerges]) for (const s of samples) expect(tok.decode(tok.encode(s))).toBe(s);
    expect(withMerges.encode('the theater').length).toBeLessThan(bytesOnly.encode('the theater').length);
  });

  it('renders ChatML and encodes special tokens as single ids', () => {
    const text = withMerges.renderChat([{ role: 'user', content: 'Hi' }]);
    expect(text).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    const ids = withMerges.encodeChat([{ role: 'user', content: 'Hi' }]);
    expect(ids.filter((i) => withMerges.eosIds.includes(i))).toHaveLength(1);
  });

  it('incremental decoding streams whole characters that concatenate to the full decode', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        const ids = bytesOnly.encode(s);
        const dec = new IncrementalDecoder(bytesOnly);
        let out = '';
        for (const id of ids) {
          const piece = dec.push(id);
          // A valid string split mid-character never shows a replacement character on the way.
          if (!s.includes('\uFFFD')) expect(piece.includes('\uFFFD')).toBe(false);
          out += piece;
        }
        out += dec.flush();
        expect(out).toBe(bytesOnly.decode(ids));
      }),
      { numRuns: 300 },
    );
  });
});

describe('stop strings', () => {
  it('never emits a stop string and emits everything before it', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }),
        fc.array(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(5), { maxLength: 10 }),
        (text, stops, cuts) => {
          const m = new StopMatcher(stops);
          let emitted = '';
          let stopped = false;
          let pos = 0;
          for (const c of [...cuts, text.length]) {
            const piece = text.slice(pos, pos + Math.max(1, c));
            pos += piece.length;
            const r = m.push(piece);
            emitted += r.text;
            if (r.stopped) {
              stopped = true;
              break;
            }
            if (pos >= text.length) break;
          }
          if (!stopped) emitted += m.flush();
          const first = Math.min(...stops.map((s) => text.indexOf(s)).filter((i) => i >= 0));
          if (Number.isFinite(first)) {
            expect(stopped).toBe(true);
            expect(emitted).toBe(text.slice(0, first));
          } else {
            expect(emitted).toBe(text.slice(0, pos));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
