/**
 * Writes a byte-level BPE tokenizer.json in Hugging Face's format (GPT-2 byte-to-unicode alphabet: 256 byte tokens,
 * optional merges, special tokens), so built models carry a tokenizer the same library loads as users' tokenizers.
 */

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

/** GPT-2's reversible map from bytes to printable unicode characters. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const map: string[] = new Array(256);
  bs.forEach((b, i) => (map[b] = String.fromCharCode(cs[i]!)));
  return map;
}

export interface ByteTokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  vocabSize: number;
  specialIds: Record<(typeof SPECIAL_TOKENS)[number], number>;
}

/**
 * `merges` extra tokens are made deterministically from common English letter pairs and then longer pieces, so the
 * vocabulary can be any size (a 32k vocabulary for benchmarks, 256 + specials for tests).
 */
export function writeByteLevelTokenizer(merges = 0): ByteTokenizerFiles {
  const byteMap = bytesToUnicode();
  const vocab: Record<string, number> = {};
  const tokens: string[] = [];
  for (let b = 0; b < 256; b++) {
    vocab[byteMap[b]!] = b;
    tokens.push(byteMap[b]!);
  }
  const mergeList: string[] = [];
  const alphabet = [' ', ...'etaoinshrdlucmfwypvbgkjqxz', ...'ETAOINSHRDLUCMFWYPVBGKJQXZ', ...'0123456789.,;:!?-\'"()'].map(
    (ch) => byteMap[ch.charCodeAt(0)]!,
  );
  // Grow pieces: every existing token (in creation order) extended by each alphabet character, until enough merges.
  for (let i = 0; mergeList.length < merges && i < tokens.length; i++) {
    const left = tokens[i]!;
    if (left.length > 8) continue;
    for (const right of alphabet) {
      if (mergeList.length >= merges) break;
      const merged = left + right;
      if (merged in vocab) continue;
      vocab[merged] = tokens.length;
      tokens.push(merged);
      mergeList.push(`${left} ${right}`);
    }
  }
  const added = SPECIAL_TOKENS.map((content, k) => ({
    id: tokens.length + k,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  for (const a of added) vocab[a.content] = a.id;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: { ...byteLevel, trim_offsets: false },
      decoder: byteLevel,
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: mergeList,
      },
    },
    vocabSize: tokens.length + added.length,
    specialIds: {
      '<|endoftext|>': added[0]!.id,
      '<|im_start|>': added[1]!.id,
      '<|im_end|>': added[2]!.id,
    },
  };
}

/** ChatML, as Qwen and SmolLM use. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
