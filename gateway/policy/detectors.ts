/**
 * Content detectors: find sensitive spans in request text and name the tag each implies (`pii`, `secret`). Checks that
 * regexes cannot express (Luhn for cards, mod-97 for IBANs) run on the candidates only. Matching runs on normalized
 * text (NFKC, invisible characters removed: matching-text.ts); findings are offsets in the original text.
 */
import { matchingText } from './matching-text.js';

export interface DetectorSpec {
  name: string;
  tag: string;
  pattern: RegExp;
  check?: (match: string) => boolean;
}

export interface Finding {
  detector: string;
  tag: string;
  start: number;
  end: number;
}

function luhn(s: string): boolean {
  const digits = s.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function ibanValid(s: string): boolean {
  const iban = s.replace(/\s/g, '').toUpperCase();
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of v) rem = (rem * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

/**
 * A whole private-key block, BEGIN line to END line: PKCS#1 (RSA), SEC1 (EC), DSA, OpenSSH, PKCS#8 (plain and
 * ENCRYPTED), PGP private key blocks, any other `... PRIVATE KEY` label, and SSH2 (`---- BEGIN SSH2 ... ----`). A
 * block cut off before its END line is matched through every following line of key material (base64, PEM headers,
 * escaped newlines), so a truncated key is masked too.
 */
const PRIVATE_KEY_BLOCK =
  /-{4,5} ?BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?) ?-{4,5}(?:[\s\S]*?-{4,5} ?END \1 ?-{4,5}|(?:[ \t]*(?:\r?\n|\\r?\\n)[ \t]*[A-Za-z0-9+/=:,.\-\\" ]*)*)/g;

/**
 * Phone numbers: international with `+`, North American with separators, bare 10-11 digit national numbers, or
 * spaced groups. Never inside a longer token, number, version or id (UUID tails, 10.0.19045.2965, ISBN parts, order
 * numbers and millisecond timestamps were false positives of the earlier looser pattern), nor part of a longer run
 * of digit groups (a 16-digit number failing Luhn is not a phone).
 */
const PHONE =
  /(?<![\w+.\-/:]|\d )(?:\+\d{1,3}[ .-]?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}|\d{10,11}|\d{2,4} \d{3,4} \d{3,4})(?!\w|[.\-/:]\d| \d)/g;

export const BUILT_IN_DETECTORS: DetectorSpec[] = [
  { name: 'email', tag: 'pii', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g },
  { name: 'phone', tag: 'pii', pattern: PHONE },
  { name: 'payment_card', tag: 'pii', pattern: /(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)/g, check: luhn },
  { name: 'iban', tag: 'pii', pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/g, check: ibanValid },
  // Dashes or spaces, the same separator twice (123-45-6789, 123 45 6789).
  { name: 'us_ssn', tag: 'pii', pattern: /\b(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}\b/g },
  { name: 'api_key', tag: 'secret', pattern: /\b(?:sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{36}|xox[bp]-[A-Za-z0-9-]{10,})\b/g },
  { name: 'private_key', tag: 'secret', pattern: PRIVATE_KEY_BLOCK },
];

export function scan(text: string, detectors: readonly DetectorSpec[]): Finding[] {
  const out: Finding[] = [];
  const matching = matchingText(text);
  for (const d of detectors) {
    d.pattern.lastIndex = 0;
    for (const m of matching.text.matchAll(d.pattern)) {
      if (m[0].length === 0 || (d.check && !d.check(m[0]))) continue;
      const span = matching.original(m.index, m.index + m[0].length);
      out.push({ detector: d.name, tag: d.tag.toLowerCase(), ...span });
    }
  }
  return out;
}

/** Overlapping findings (an email inside a key block) become one span, so redaction never cuts a mask in half. */
function mergeOverlapping(findings: Finding[]): Finding[] {
  if (findings.length < 2) return findings;
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Finding[] = [];
  for (const f of sorted) {
    const last = out[out.length - 1];
    if (last && f.start < last.end) {
      if (f.end > last.end) last.end = f.end;
      continue;
    }
    out.push({ ...f });
  }
  return out;
}

/** A reversible placeholder: the detector that found the span and its number in the request's (or session's) table. */
export function reversiblePlaceholder(detector: string, n: number): string {
  return `[REDACTED:${detector}:${n}]`;
}

/** Any reversible placeholder; group 1 is the detector name. */
export const REVERSIBLE_PLACEHOLDER = /\[REDACTED:([a-z0-9_]+):\d+\]/g;

/**
 * Replaces detected spans with `[REDACTED:<detector>]`, right to left so offsets stay valid. With `masks` (reversible
 * masking) each distinct value gets one numbered placeholder, reused wherever the same value appears again (other
 * messages, tool-call arguments), so the model can still tell values apart and refer to them.
 */
export function redact(text: string, findings: readonly Finding[], masks?: Map<string, string>): string {
  const spans = mergeOverlapping([...findings]);
  // Numbered in reading order, replaced right to left.
  const tags = spans.map((f) => (masks ? placeholderFor(masks, f.detector, text.slice(f.start, f.end)) : `[REDACTED:${f.detector}]`));
  let out = text;
  for (let i = spans.length - 1; i >= 0; i--) out = out.slice(0, spans[i]!.start) + tags[i] + out.slice(spans[i]!.end);
  return out;
}

/** The value's placeholder in `masks` (placeholder -> original), a new number if the value is new. */
function placeholderFor(masks: Map<string, string>, detector: string, original: string): string {
  for (const [tag, value] of masks) if (value === original) return tag;
  const tag = reversiblePlaceholder(detector, masks.size + 1);
  masks.set(tag, original);
  return tag;
}

/** Puts reversible masks back into text. */
export function unmask(text: string, masks: ReadonlyMap<string, string>): string {
  if (!text.includes('[REDACTED:')) return text;
  return text.replace(REVERSIBLE_PLACEHOLDER, (tag) => masks.get(tag) ?? tag);
}
