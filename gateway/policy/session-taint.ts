/**
 * Session taint: once a conversation carried a tagged message, its later turns keep the tag for `ttl_seconds`, so the
 * third turn of a chat about a patient stays where the first had to, even without a name in it. A conversation is
 * known by every key the policy lists that the request has: the OpenAI `user` field, the session header, a hash of
 * the leading messages (system messages and the first user message, which every later turn repeats). Taint lives in
 * the CounterStore (Redis when configured, so replicas share it; memory otherwise): one counter per session and class,
 * its expiry pushed out by each tagged turn. Keys are hashed, so no conversation text is stored.
 */
import type { RouteInput } from '../core/decision.js';
import { sha256Hex } from '../core/sha256.js';
import type { JsonValue } from '../core/types.js';
import type { CounterStore } from '../counters/counter-store.js';
import type { Policy } from './policy-schema.js';

type TaintConfig = NonNullable<Policy['taint']>;

const MAX_MARKED = 32;

/** The leading messages every later turn of the conversation repeats: system messages up to the first user message. */
function leadingMessages(messages: JsonValue | undefined): JsonValue[] | undefined {
  if (!Array.isArray(messages)) return undefined;
  const lead: JsonValue[] = [];
  for (const m of messages) {
    lead.push(m);
    if (m && typeof m === 'object' && !Array.isArray(m) && m['role'] === 'user') return lead;
  }
  return undefined;
}

export class SessionTaint {
  constructor(
    private readonly cfg: TaintConfig,
    private readonly store: CounterStore,
    /** Classes looked up (those this policy version acts on); others cannot change its decisions. */
    private readonly classes: readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  /** The request's conversation keys, hashed (empty when it has none of the configured ones). */
  async keys(input: RouteInput): Promise<string[]> {
    const body = input.request.body;
    const raw: string[] = [];
    for (const k of this.cfg.key) {
      if (k === 'user' && typeof body['user'] === 'string' && body['user']) raw.push(`user:${input.principal.tenant}:${body['user']}`);
      if (k === 'header') {
        const h = input.headers.get(this.cfg.header);
        if (h) raw.push(`header:${input.principal.tenant}:${h}`);
      }
      if (k === 'messages') {
        const lead = leadingMessages(body['messages']);
        if (lead) raw.push(`messages:${input.principal.tenant}:${JSON.stringify(lead)}`);
      }
    }
    // Hash tag: a session's counters share one Redis Cluster slot, so one MGET reads them all.
    return Promise.all(raw.map(async (r) => `taint:{${(await sha256Hex(r)).slice(0, 32)}}`));
  }

  /** Classes earlier turns of these sessions carried, still within their TTL. */
  async carried(keys: readonly string[]): Promise<string[]> {
    if (keys.length === 0 || this.classes.length === 0) return [];
    // One read per session key: each key's counters share a slot, different keys may not.
    const values = await Promise.all(keys.map((k) => this.store.get(this.classes.map((c) => `${k}:${c}`))));
    const out = new Set<string>();
    for (const vs of values) vs.forEach((v, i) => v > 0 && out.add(this.classes[i]!));
    return [...out];
  }

  /** Marks these sessions as carrying `classes` for the next `ttl_seconds`. */
  async mark(keys: readonly string[], classes: readonly string[]): Promise<void> {
    // Every class is remembered, not only those this version acts on: a reload that starts restricting one must still
    // find the sessions that carried it. Capped, since header tags are the client's.
    const worth = [...new Set(classes)].slice(0, MAX_MARKED);
    const until = this.now() + this.cfg.ttl_seconds * 1000;
    await Promise.all(keys.flatMap((k) => worth.map((c) => this.store.adjust(`${k}:${c}`, 1, until))));
  }
}
