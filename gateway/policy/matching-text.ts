/**
 * The text detectors match against: Unicode NFKC (full-width digits and letters become ASCII, ligatures split) with
 * invisible characters (zero-width spaces and joiners, soft hyphens, BOMs, bidi controls, variation selectors)
 * removed, plus a map from each matched offset back to the original text, so redaction masks the original span.
 * Normalization is for matching only: what is sent (redacted or not) keeps the client's characters.
 */

const INVISIBLE = /^[\p{Default_Ignorable_Code_Point}\p{Cf}]$/u;
/** Text with nothing to normalize (printable ASCII and ordinary whitespace) is matched as is. */
const PLAIN = /^[\t\n\r\x20-\x7e]*$/;

export interface MatchingText {
  text: string;
  /** Original offset of a span [start, end) of `text`. */
  original(start: number, end: number): { start: number; end: number };
}

export function matchingText(original: string): MatchingText {
  if (PLAIN.test(original)) return { text: original, original: (start, end) => ({ start, end }) };
  let text = '';
  // For each UTF-16 unit of `text`: where its source code point starts and ends in the original.
  const from: number[] = [];
  const to: number[] = [];
  let i = 0;
  for (const ch of original) {
    const next = i + ch.length;
    if (!INVISIBLE.test(ch)) {
      const n = ch.normalize('NFKC');
      text += n;
      for (let k = 0; k < n.length; k++) {
        from.push(i);
        to.push(next);
      }
    }
    i = next;
  }
  return {
    text,
    original: (start, end) => ({
      start: from[start] ?? original.length,
      end: end > start ? (to[end - 1] ?? original.length) : (from[start] ?? original.length),
    }),
  };
}
