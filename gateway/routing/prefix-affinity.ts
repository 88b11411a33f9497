/**
 * `balance: prefix_affinity` for a pool of edge servers: send a request where its prompt prefix is most likely already
 * in the KV cache, without overloading anyone.
 *
 * - The leading text of the request (messages in order, as the chat template lays them out) is cut into blocks of
 *   BLOCK_CHARS characters and hashed as a chain, like the paged KV cache's block hashes: block i's hash covers blocks
 *   0..i, so equal hashes mean an equal prefix up to there. The gateway has no tokenizer for a remote server's model,
 *   so blocks are characters, not tokens.
 * - A prefix index (hash -> member, LRU) remembers where each prefix block was last sent: a member's overlap is the
 *   deepest block of this request's chain it was sent. This is the gateway's own approximation of the servers' caches
 *   (what llm-d's approximate prefix-cache scorer does); it needs nothing from the servers.
 * - With no overlap anywhere, rendezvous (highest-random-weight) hashing of the request's anchor (its first
 *   ANCHOR_BLOCKS blocks: the system prompt and the start of the conversation) picks the member: consistent hashing,
 *   so replicas of the gateway agree without sharing state, and a member leaving moves only its own prefixes.
 * - Bounded load (Mirrokni et al., "consistent hashing with bounded loads"): a member whose load (requests the gateway
 *   has in flight to it plus the queue it reports) is at or above LOAD_FACTOR x the pool's average is skipped, so a
 *   popular prefix spills to the next member instead of queueing behind itself.
 */
import type { JsonObject, JsonValue } from '../core/types.js';
import type { UpstreamLoad } from '../core/upstream.js';

/** Characters per prefix block (~32-64 tokens of English for common BPE vocabularies). */
export const BLOCK_CHARS = 128;
/** Blocks hashed per request: prefixes beyond 64 x 128 = 8 KiB characters do not change the choice. */
export const MAX_BLOCKS = 64;
/** Blocks that make the rendezvous anchor (512 characters: usually inside the system prompt). */
export const ANCHOR_BLOCKS = 4;
/** A member is full at this multiple of the pool's average load (1.25 as in the bounded-load paper's experiments). */
export const LOAD_FACTOR = 1.25;
/** Members remembered per prefix block (a hot prefix may be cached on more than one). */
export const MEMBERS_PER_BLOCK = 3;
/** Prefix blocks remembered (a Map entry each: a few MB at most). */
export const INDEX_CAPACITY = 100_000;

/** The leading text a chat template would render: role and content of each message, in order, up to `limit` chars. */
export function leadingText(body: JsonObject, limit = BLOCK_CHARS * MAX_BLOCKS): string {
  let out = '';
  const add = (s: string) => {
    if (out.length < limit) out += s.slice(0, limit - out.length);
  };
  const content = (v: JsonValue | undefined) => {
    if (typeof v === 'string') add(v);
    else if (Array.isArray(v))
      for (const part of v) if (part && typeof part === 'object' && !Array.isArray(part) && typeof part['text'] === 'string') add(part['text']);
  };
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    for (const m of messages) {
      if (out.length >= limit) break;
      if (!m || typeof m !== 'object' || Array.isArray(m)) continue;
      add(`<|${typeof m['role'] === 'string' ? m['role'] : ''}|>`);
      content(m['content']);
      add('\n');
    }
  } else content(body['prompt']);
  return out;
}

/** FNV-1a over a string from a 32-bit seed. */
function fnv(seed: number, text: string, start: number, end: number): number {
  let h = seed >>> 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A 32-bit finaliser (murmur3 fmix32): spreads nearby inputs, so rendezvous weights are independent per member. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Chained hashes of the full blocks of `text`: hash i covers blocks 0..i (two 32-bit FNV lanes: ~53 bits of key, as a
 * number a Map hashes cheaply). A trailing partial block is left out, as the KV cache only shares full blocks.
 */
export function prefixBlockHashes(text: string, blockChars = BLOCK_CHARS): number[] {
  const out: number[] = [];
  let a = 0x811c9dc5;
  let b = 0x5bd1e995;
  for (let start = 0; start + blockChars <= text.length && out.length < MAX_BLOCKS; start += blockChars) {
    a = fnv(a, text, start, start + blockChars);
    b = fnv(mix(b ^ a), text, start, start + blockChars);
    out.push((a >>> 0) * 2 ** 21 + (b >>> 11));
  }
  return out;
}

export interface AffinityChoice {
  /** The pool, best first. */
  order: string[];
  /** Why the first was chosen, for the decision trace. */
  reason: string;
}

export class PrefixAffinity {
  /** prefix block hash -> the members it was sent to (most recent last, a few at most); Map order is the LRU order. */
  private readonly index = new Map<number, string[]>();

  constructor(private readonly capacity = INDEX_CAPACITY) {}

  /** Orders `pool` for this request body and remembers the first member as holding its prefix. */
  choose(pool: readonly string[], body: JsonObject, loadOf: (id: string) => UpstreamLoad | undefined): AffinityChoice {
    const text = leadingText(body);
    const hashes = prefixBlockHashes(text);
    // Short prompts (less than one block) still get a stable anchor: the whole text.
    const anchor = hashes.length > 0 ? hashes[Math.min(hashes.length, ANCHOR_BLOCKS) - 1]! : fnv(0x811c9dc5, text, 0, text.length);
    const overlap = new Map<string, number>();
    for (let i = hashes.length - 1; i >= 0; i--) {
      for (const m of this.index.get(hashes[i]!) ?? []) if (!overlap.has(m)) overlap.set(m, i + 1);
    }
    const members = pool.map((id) => {
      const l = loadOf(id);
      return {
        id,
        up: l !== undefined,
        load: l ? l.inFlight + (l.queueDepth ?? 0) : Infinity,
        overlap: overlap.get(id) ?? 0,
        weight: mix(anchor ^ fnv(0x811c9dc5, id, 0, id.length)),
      };
    });
    const live = members.filter((m) => m.up);
    const total = live.reduce((s, m) => s + m.load, 0);
    // The request being placed counts, so an idle pool has a cap of at least one.
    const cap = Math.max(1, Math.ceil((LOAD_FACTOR * (total + 1)) / Math.max(1, live.length)));
    const fits = (m: (typeof members)[number]) => m.up && m.load + 1 <= cap;
    const order = [...members].sort(
      (x, y) => Number(fits(y)) - Number(fits(x)) || y.overlap - x.overlap || (fits(x) ? y.weight - x.weight : x.load - y.load),
    );
    const first = order[0]!;
    this.remember(hashes, first.id);
    const why =
      first.overlap > 0
        ? `${first.overlap} prefix blocks already sent there`
        : `consistent hash of the prefix${members.some((m) => m.weight > first.weight) ? ' (preferred member over its load bound)' : ''}`;
    return { order: order.map((m) => m.id), reason: `prefix affinity: ${first.id}, ${why}, load ${first.load}/${cap}` };
  }

  private remember(hashes: readonly number[], member: string): void {
    for (const h of hashes) {
      // A hot prefix spilled to a second member is cached on both: remember both, so the tie goes back to its
      // consistent-hash home once that has room, instead of following the last spill.
      const held = (this.index.get(h) ?? []).filter((m) => m !== member);
      held.push(member);
      this.index.delete(h);
      this.index.set(h, held.slice(-MEMBERS_PER_BLOCK));
    }
    while (this.index.size > this.capacity) this.index.delete(this.index.keys().next().value!);
  }
}
