/**
 * Detector false-positive guards and cost bounds: common technical tokens are not secrets or PII while real values
 * still are; the `@`-anchored email finder gives exactly the regex's matches; long unbroken tokens scan in linear time
 * (the email pattern was quadratic: 670 ms for one 16k-char blob).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_DETECTORS, scan, type DetectorSpec } from '../../gateway/policy/detectors.js';

const SEED = Number(process.env['FC_SEED'] ?? 20261126);
const found = (text: string) => scan(text, BUILT_IN_DETECTORS).map((f) => `${f.detector}:${text.slice(f.start, f.end)}`);

describe('false-positive guards', () => {
  it.each([
    ['upload to S3 then deploy on EKS in us-east-1 with IAM and KMS'],
    ['object id 5f3a9c1e2b4d6f8a0c1e3b5d and deadbeefdeadbeefdeadbeef'],
    ['request 3f2b9c1e-8d4a-4e6f-9a7b-1c2d3e4f5a6b, uuid 123e4567-e89b-12d3-a456-426614174000'],
    ['commit 9fceb02d0ae598e95dc970b74767f19372d61af8 (short 9fceb02)'],
    ['sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9 and id dGhpcyBpcyBhIHRlc3Q0MTExMTExMTExMTExMTEx'],
    ['hex literal 0x4111111111111111 and path arn:aws:s3:::bucket/4111111111111111'],
    ['order 4000123456, ts 1764120137123, pid 123456, version 10.0.19045.2965, ip 192.168.100.200'],
    ['remote git@github.com:org/repo.git and npm i @opentelemetry/api@1.9.0'],
    ['mac 00:1A:2B:3C:4D:5E, ISBN 978-3-16-148410-0, session 20251126012217'],
  ])('%s: nothing found', (text) => {
    expect(found(text)).toEqual([]);
  });

  it.each([
    ['mail jane.doe@example.com.', 'email:jane.doe@example.com'],
    ['call 415-555-0100', 'phone:415-555-0100'],
    ['call 2025550143', 'phone:2025550143'],
    ['call +44 20 7946 0958', 'phone:+44 20 7946 0958'],
    ['card 4111 1111 1111 1111', 'payment_card:4111 1111 1111 1111'],
    ['card=4111111111111111', 'payment_card:4111111111111111'],
    ['ssn 123-45-6789', 'us_ssn:123-45-6789'],
    ['iban DE89370400440532013000', 'iban:DE89370400440532013000'],
    ['key sk-abcdefghijklmnopqrstuvwx1234', 'api_key:sk-abcdefghijklmnopqrstuvwx1234'],
    ['aws AKIAABCDEFGHIJKLMNOP', 'api_key:AKIAABCDEFGHIJKLMNOP'],
  ])('%s: still found', (text, expected) => {
    expect(found(text)).toEqual([expected]);
  });
});

describe('cost', () => {
  it('the @-anchored email finder gives exactly the regex matches', () => {
    const email = BUILT_IN_DETECTORS.find((d) => d.name === 'email')!;
    const byRegex: DetectorSpec = { ...email, find: undefined };
    const alphabet = fc.constantFrom('a', 'B', '7', '.', '-', '_', '+', '%', '@', ' ', ':', '/', 'x', 'co', 'com', 'org');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 60 }), (parts) => {
        const text = parts.join('');
        expect(scan(text, [email])).toEqual(scan(text, [byRegex]));
      }),
      { numRuns: 3000, seed: SEED },
    );
  });

  it('scans long unbroken tokens in linear time', () => {
    // How the scan grows, not how fast this machine is: 4x the text must cost well under 16x (quadratic) the CPU.
    // Each size is scanned several times and the least taken, so one preemption cannot decide it.
    const cpuOf = (text: string) => {
      scan(text, BUILT_IN_DETECTORS); // warm-up
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const t0 = process.cpuUsage();
        scan(text, BUILT_IN_DETECTORS);
        const c = process.cpuUsage(t0);
        best = Math.min(best, c.user + c.system);
      }
      return Math.max(best, 1);
    };
    const blobs = [
      (n: number) => 'A'.repeat(n),
      (n: number) => 'a.b-c_d%e+f'.repeat(n / 11) + '@',
      (n: number) => '1234567890'.repeat(n / 10),
      (n: number) => `-----BEGIN ${'X '.repeat(n / 2)}`,
    ];
    for (const blob of blobs) {
      // The quadratic email pattern took ~670 ms on 16,000 characters: 16x per 4x. Large enough sizes (~0.1-0.5 ms) to time.
      expect(cpuOf(blob(64_000)) / cpuOf(blob(16_000))).toBeLessThan(8);
    }
  });
});
