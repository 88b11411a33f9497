import { describe, expect, it } from 'vitest';
import type { Decision } from '../core/decision.js';
import { maskingSchema } from './masking-config.js';
import { SessionMasks } from './session-masks.js';

const decision = (values: string[], content: string): Decision =>
  ({
    candidates: [],
    edgeOnly: false,
    tags: ['pii'],
    ruleId: 'r',
    policyVersion: 'v',
    cache: { enabled: false, ttlSeconds: 0 },
    trace: [],
    body: { messages: [{ role: 'user', content }] },
    unmask: new Map(values.map((v, i) => [`[REDACTED:email:${i + 1}]`, v])),
  }) as Decision;

const session = new Headers({ 'x-switchyard-session': 's' });
const sent = (d: Decision) => JSON.stringify(d.body);

describe('SessionMasks', () => {
  it('keeps tables sealed, expires them, and keeps tenants apart', async () => {
    let now = 0;
    const masks = new SessionMasks(maskingSchema.parse({ session_ttl_seconds: 10 }), () => now);
    await masks.apply(decision(['a@x.io'], '[REDACTED:email:1]'), session, {}, 't1');
    const second = await masks.apply(decision(['b@x.io', 'a@x.io'], '[REDACTED:email:1] [REDACTED:email:2]'), session, {}, 't1');
    expect(sent(second)).toContain('[REDACTED:email:2] [REDACTED:email:1]');
    expect([...(second.unmask ?? [])]).toEqual([
      ['[REDACTED:email:1]', 'a@x.io'],
      ['[REDACTED:email:2]', 'b@x.io'],
    ]);
    // Nothing readable is held: the stored tables are AES-GCM ciphertext.
    const held = (masks as unknown as { tables: Map<string, { sealed: ArrayBuffer }> }).tables;
    for (const [id, t] of held) {
      expect(id).toMatch(/^[0-9a-f]{64}$/); // a digest, not the session id
      expect(Buffer.from(t.sealed).toString('latin1')).not.toContain('a@x.io');
    }
    // Another tenant with the same session id starts its own table.
    const other = await masks.apply(decision(['b@x.io'], '[REDACTED:email:1]'), session, {}, 't2');
    expect(sent(other)).toContain('[REDACTED:email:1]');
    // After the TTL the table is gone: numbering starts again.
    now = 11_000;
    const later = await masks.apply(decision(['b@x.io'], '[REDACTED:email:1]'), session, {}, 't1');
    expect([...(later.unmask ?? [])]).toEqual([['[REDACTED:email:1]', 'b@x.io']]);
  });

  it('gives concurrent turns of one session distinct numbers for distinct values', async () => {
    const masks = new SessionMasks(maskingSchema.parse({}));
    const turns = await Promise.all(
      ['a@x.io', 'b@x.io', 'c@x.io', 'd@x.io'].map((v) => masks.apply(decision([v], '[REDACTED:email:1]'), session, {}, 't')),
    );
    const last = await masks.apply(decision(['e@x.io'], '[REDACTED:email:1]'), session, {}, 't');
    expect(new Set(turns.map(sent)).size).toBe(4);
    expect(last.unmask?.size).toBe(5);
  });

  it('leaves requests without reversible masks untouched', async () => {
    const masks = new SessionMasks(maskingSchema.parse({}));
    const d = { ...decision([], 'hi'), unmask: undefined };
    expect(await masks.apply(d, session, {}, 't')).toBe(d);
  });
});
