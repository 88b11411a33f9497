/**
 * Session tables for reversible masking: the same value gets the same placeholder in every turn of a session, and an
 * answer may name a placeholder from an earlier turn and still be unmasked. A table lives only in this process's
 * memory, encrypted (AES-256-GCM, WebCrypto so the Worker can run it too; the session id is the associated data),
 * and expires after `session_ttl_seconds` without use. Tables never go into records or the cache: those only ever
 * see the masked body and the masked answer.
 */
import type { Decision } from '../core/decision.js';
import type { JsonObject, JsonValue } from '../core/types.js';
import { REVERSIBLE_PLACEHOLDER, reversiblePlaceholder } from '../policy/detectors.js';
import type { MaskingConfig } from './masking-config.js';

interface SealedTable {
  iv: Uint8Array<ArrayBuffer>;
  sealed: ArrayBuffer;
  expiresAt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fromBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export class SessionMasks {
  private readonly tables = new Map<string, SealedTable>();
  /** One table update at a time per session: two concurrent turns must not hand out the same number twice. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Made on first use: Workers refuse random values at module scope. */
  private keyPromise: Promise<CryptoKey> | undefined;

  constructor(
    private readonly config: MaskingConfig,
    private readonly now: () => number = Date.now,
  ) {}

  private key(): Promise<CryptoKey> {
    return (this.keyPromise ??= this.config.key
      ? crypto.subtle.importKey('raw', fromBase64(this.config.key), 'AES-GCM', false, ['encrypt', 'decrypt'])
      : crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']));
  }

  /**
   * The session a request belongs to: the session header, else the OpenAI `user` field, within its owner (tenant and
   * key: the client names the session, so another key that guesses the name must not reach its table); undefined =
   * this request only.
   */
  private sessionOf(headers: Headers, body: JsonObject, owner: string): string | undefined {
    const id = headers.get(this.config.session_header) ?? (typeof body['user'] === 'string' ? body['user'] : undefined);
    return id ? `${owner}\u0000${id}` : undefined;
  }

  /**
   * A decision whose masked body uses the session's placeholders, and whose unmask table holds every value the session
   * has masked so far. Decisions without reversible masks (nearly all) come back unchanged at no cost.
   */
  async apply(decision: Decision, headers: Headers, body: JsonObject, owner: string): Promise<Decision> {
    const local = decision.unmask;
    if (!local || local.size === 0 || !decision.body) return decision;
    const session = this.sessionOf(headers, body, owner);
    if (session === undefined) return decision;
    const id = await this.idOf(session);
    const run = (this.queues.get(id) ?? Promise.resolve()).then(() => this.merge(id, decision, local));
    const queued = run.catch(() => undefined);
    this.queues.set(id, queued);
    void queued.then(() => {
      if (this.queues.get(id) === queued) this.queues.delete(id);
    });
    return run;
  }

  /** Sessions currently held (expired ones are dropped as they are met). */
  get size(): number {
    return this.tables.size;
  }

  private async merge(id: string, decision: Decision, local: ReadonlyMap<string, string>): Promise<Decision> {
    const table = (await this.open(id)) ?? new Map<string, string>();
    const byValue = new Map([...table].map(([tag, value]) => [value, tag]));
    // Request placeholders -> session placeholders: known values keep their number, new ones get the next.
    const renumber = new Map<string, string>();
    for (const [tag, value] of local) {
      let sessionTag = byValue.get(value);
      if (!sessionTag) {
        sessionTag = reversiblePlaceholder(detectorOf(tag), table.size + 1);
        table.set(sessionTag, value);
        byValue.set(value, sessionTag);
      }
      renumber.set(tag, sessionTag);
    }
    await this.seal(id, table);
    const body = [...renumber].every(([a, b]) => a === b) ? decision.body : rewrite(decision.body ?? {}, renumber);
    return { ...decision, body, unmask: table };
  }

  private async open(id: string): Promise<Map<string, string> | undefined> {
    const entry = this.tables.get(id);
    if (!entry) return undefined;
    this.tables.delete(id);
    if (entry.expiresAt <= this.now()) return undefined;
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: entry.iv, additionalData: encoder.encode(id) }, await this.key(), entry.sealed);
    return new Map(JSON.parse(decoder.decode(plain)) as Array<[string, string]>);
  }

  private async seal(id: string, table: ReadonlyMap<string, string>): Promise<void> {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: encoder.encode(id) },
      await this.key(),
      encoder.encode(JSON.stringify([...table])),
    );
    this.tables.delete(id);
    this.tables.set(id, { iv, sealed, expiresAt: this.now() + this.config.session_ttl_seconds * 1000 });
    // Least recently used first out (Map keeps insertion order; a use re-inserts).
    for (const old of this.tables.keys()) {
      if (this.tables.size <= this.config.max_sessions) break;
      this.tables.delete(old);
    }
  }

  /** Sessions are looked up by a digest: a `user` value may itself be personal data. */
  private async idOf(session: string): Promise<string> {
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(session)));
    return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  }
}

function detectorOf(tag: string): string {
  return tag.slice('[REDACTED:'.length, tag.lastIndexOf(':'));
}

/** The body with request placeholders swapped for session ones (one pass per string, so swaps never chain). */
function rewrite(body: JsonObject, renumber: ReadonlyMap<string, string>): JsonObject {
  const fix = (v: JsonValue): JsonValue => {
    if (typeof v === 'string') return v.includes('[REDACTED:') ? v.replace(REVERSIBLE_PLACEHOLDER, (t) => renumber.get(t) ?? t) : v;
    if (Array.isArray(v)) return v.map(fix);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fix(x)]));
    return v;
  };
  return fix(body) as JsonObject;
}
