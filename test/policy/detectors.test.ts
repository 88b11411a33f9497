/**
 * Detectors found leaky by adversarial testing: whole private-key blocks of every kind, normalized variants (NFKC,
 * invisible characters, spaced SSNs) matched but the original characters masked, and the false-positive guards.
 */
import { describe, expect, it } from 'vitest';
import { BUILT_IN_DETECTORS, redact, scan } from '../../gateway/policy/detectors.js';
import { privateKeyBlocks } from './private-key-blocks.js';

const found = (text: string) => scan(text, BUILT_IN_DETECTORS).map((f) => f.detector);
const masked = (text: string) => redact(text, scan(text, BUILT_IN_DETECTORS));

/** The key material: every line of the block but the BEGIN line (which a header-only detector did catch). */
const bodyLines = (block: string) =>
  block
    .trim()
    .split('\n')
    .slice(1)
    .filter((l) => l.length >= 8);

describe('private keys: the whole block is one finding', () => {
  it.each(privateKeyBlocks())('%s', (_kind, block) => {
    const text = `Please debug this:\n${block.trim()}\nThanks!`;
    expect(found(text)).toContain('private_key');
    const out = masked(text);
    expect(out).toBe('Please debug this:\n[REDACTED:private_key]\nThanks!');
    for (const line of bodyLines(block)) expect(out).not.toContain(line);
  });

  it('masks a block cut off before its END line, key material included', () => {
    const [, block] = privateKeyBlocks()[0]!;
    const cut = block.split('\n').slice(0, 5).join('\n');
    const out = masked(`key: ${cut}`);
    expect(out).toBe('key: [REDACTED:private_key]');
  });

  it('masks a block whose newlines arrive escaped (a key pasted inside a JSON string)', () => {
    const [, block] = privateKeyBlocks()[2]!;
    const escaped = block.trim().split('\n').join('\\n');
    expect(masked(`{"key": "${escaped}"}`)).toBe('{"key": "[REDACTED:private_key]"}');
  });
});

describe('normalized variants are detected, and the original characters masked', () => {
  it.each([
    ['full-width card digits', 'card ４１１１ １１１１ １１１１ １１１１ please', 'payment_card', 'card [REDACTED:payment_card] please'],
    ['zero-width space in an email domain', 'mail ada@exam\u200bple.com now', 'email', 'mail [REDACTED:email] now'],
    ['soft hyphen and word joiner in an email', 'mail a\u00adda@example\u2060.org now', 'email', 'mail [REDACTED:email] now'],
    ['SSN written with spaces', 'ssn 123 45 6789 ok', 'us_ssn', 'ssn [REDACTED:us_ssn] ok'],
    ['full-width SSN', 'ssn １２３-４５-６７８９ ok', 'us_ssn', 'ssn [REDACTED:us_ssn] ok'],
    ['zero-width joiners inside an API key', 'key sk-abcdefghij\u200dklmnopqrstuvwxyz123456 ok', 'api_key', 'key [REDACTED:api_key] ok'],
    ['full-width BEGIN line', '－－－－－BEGIN RSA PRIVATE KEY－－－－－\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn', 'private_key', '[REDACTED:private_key]'],
  ])('%s', (_name, text, detector, want) => {
    expect(found(text)).toContain(detector);
    expect(masked(text)).toBe(want);
  });

  it('keeps text without anything to normalize unchanged (ASCII fast path) and offsets exact after astral characters', () => {
    expect(masked('hi 😀 ada@example.com 😀 bye')).toBe('hi 😀 [REDACTED:email] 😀 bye');
  });
});

describe('false-positive guards', () => {
  it.each([
    'id 3f2a9b7c4d5e6f708192a3b4c5d6e7f8',
    'commit 9fceb02d0ae598e95dc970b74767f19372d61af8',
    'uuid 123e4567-e89b-12d3-a456-426614174000',
    'version 1.2.3, build 10.0.19045.2965, v2.14.100-rc.1',
    'upload the report to S3, then EC2',
    'order #1234567, order 20261125-0042, order number 4000123456789',
    'logged at 1732579200000 ms',
    'ISBN 978-3-16-148410-0',
    'listen on 127.0.0.1:8080 and 2026-11-25',
    'card 4111 1111 1111 1112 (fails Luhn)',
    'the ----- BEGIN PUBLIC KEY ----- line is public',
    '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----',
  ])('finds nothing in %s', (text) => {
    expect(found(text)).toEqual([]);
  });

  it('still finds real phone numbers', () => {
    for (const p of ['(415) 555-0100', '415-555-0100', '+44 20 7946 0958', '+14155550100', '4155550100'])
      expect(found(`call ${p} now`)).toContain('phone');
  });
});
