/** A tokenizer.json's vocabulary in id order, as xgrammar wants it (the encoded forms), and its vocabulary type. */

interface TokenizerJsonShape {
  model?: { type?: string; vocab?: Record<string, number> | Array<[string, number]>; byte_fallback?: boolean };
  added_tokens?: Array<{ id: number; content: string }>;
  decoder?: { type?: string; decoders?: Array<{ type?: string }> } | null;
}

export interface TokenVocabulary {
  encoded: string[];
  /** RAW, BYTE_LEVEL (GPT-2 style byte-to-unicode) or BYTE_FALLBACK (SentencePiece <0xNN> tokens). */
  type: 'RAW' | 'BYTE_LEVEL' | 'BYTE_FALLBACK';
}

export function tokenVocabulary(tokenizerJson: object, size: number): TokenVocabulary {
  const j = tokenizerJson as TokenizerJsonShape;
  const encoded = Array.from({ length: size }, () => '');
  const vocab = j.model?.vocab;
  if (Array.isArray(vocab)) {
    // Unigram models list [piece, score] in id order.
    vocab.forEach(([piece], id) => {
      if (id < size) encoded[id] = piece;
    });
  } else if (vocab) {
    for (const [piece, id] of Object.entries(vocab)) if (id < size) encoded[id] = piece;
  }
  for (const t of j.added_tokens ?? []) if (t.id < size) encoded[t.id] = t.content;
  const decoders = [j.decoder?.type, ...(j.decoder?.decoders ?? []).map((d) => d.type)];
  const type = decoders.includes('ByteLevel') ? 'BYTE_LEVEL' : decoders.includes('ByteFallback') || j.model?.byte_fallback ? 'BYTE_FALLBACK' : 'RAW';
  return { encoded, type };
}
