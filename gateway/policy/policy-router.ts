/** The Router backed by a policy file: holds the active compiled policy, swaps it atomically on a valid reload. */
import type { Decision, RouteInput, Router } from '../core/decision.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import { parseYamlFile } from '../config/load-config.js';
import { compilePolicy, type CompiledPolicy, type CompileOptions } from './compile-policy.js';
import { policySchemaFor } from './policy-schema.js';
import type { LiveStats } from '../resilience/live-stats.js';
import { MemoryCounterStore } from '../counters/memory-counter-store.js';

export interface PolicyStatus {
  source: string;
  version: string;
  loadedAt: string;
  /** The last rejected edit (file:line: field: message), if the newest text did not validate. */
  lastError: string | null;
  /** A valid edit the activation gate held back (its version), until forced. */
  pending?: string | null;
}

/** Decides whether a valid new version may go live: a reason to hold it back, or undefined. */
export type ActivationGate = (next: CompiledPolicy) => Promise<string | undefined>;

/** A short content hash: the version every decision and cache key carries. */
async function versionOf(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return `v1-${[...d.slice(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export async function compileText(
  text: string,
  source: string,
  catalog: ModelCatalog,
  live?: LiveStats,
  opts?: CompileOptions,
): Promise<CompiledPolicy> {
  // Every rejection (schema, bad regex, unknown upstream) is `file:line: field: message`, from the CLI, startup and reload.
  const policy = parseYamlFile(
    text,
    source,
    policySchemaFor((id) => catalog.upstream(id) !== undefined),
  );
  return compilePolicy(policy, await versionOf(text), catalog, live, opts);
}

export class PolicyRouter implements Router {
  private constructor(
    private active: CompiledPolicy,
    private status: PolicyStatus,
    private readonly catalog: ModelCatalog,
    private readonly live?: LiveStats,
    private readonly opts: CompileOptions = {},
  ) {}

  static async create(text: string, source: string, catalog: ModelCatalog, live?: LiveStats, options: CompileOptions = {}): Promise<PolicyRouter> {
    // One taint store for every version: a reload must not forget which sessions are tainted.
    const opts = { ...options, counters: options.counters ?? new MemoryCounterStore() };
    const compiled = await compileText(text, source, catalog, live, opts);
    return new PolicyRouter(
      compiled,
      { source, version: compiled.version, loadedAt: new Date().toISOString(), lastError: null },
      catalog,
      live,
      opts,
    );
  }

  decide(input: RouteInput): Decision | Promise<Decision> {
    // One read of the reference: a request decides against one version even if a reload lands mid-way.
    const active = this.active;
    return active.taint ? decideWithTaint(active, input) : active.decide(input);
  }

  private gate?: ActivationGate;
  private held?: CompiledPolicy;

  /** From now on, each reload passes the gate first (e.g. replay: no class may reach a new zone). */
  setGate(gate: ActivationGate): void {
    this.gate = gate;
  }

  /** Compiles a text against this router's upstreams without activating it (replay, checks). */
  compile(text: string): Promise<CompiledPolicy> {
    return compileText(text, this.status.source, this.catalog, this.live, this.opts);
  }

  /** Activates the version the gate held back; it was held for a reason, so only when forced. */
  async activatePending(force: boolean): Promise<{ ok: boolean; version?: string; error?: string }> {
    const next = this.held;
    if (!next) return { ok: false, error: 'no held-back policy version to activate' };
    if (!force) return { ok: false, error: `${this.status.lastError ?? 'held back by the gate'} (send {"force": true})` };
    this.swap(next);
    return { ok: true, version: next.version };
  }

  private swap(next: CompiledPolicy): void {
    this.active = next;
    this.held = undefined;
    this.status = { ...this.status, version: next.version, loadedAt: new Date().toISOString(), lastError: null, pending: null };
  }

  /** Validates and swaps in a new version; an invalid one is rejected and the last good version keeps serving. */
  async reload(text: string): Promise<{ ok: boolean; error?: string }> {
    try {
      const next = await compileText(text, this.status.source, this.catalog, this.live, this.opts);
      const held = this.gate ? await this.gate(next) : undefined;
      if (held) {
        this.held = next;
        this.status = { ...this.status, lastError: held, pending: next.version };
        return { ok: false, error: held };
      }
      this.swap(next);
      return { ok: true };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A version held back earlier is no longer what the file says: forcing it now would activate a stale edit.
      this.held = undefined;
      this.status = { ...this.status, lastError: message, pending: null };
      return { ok: false, error: message };
    }
  }

  get current(): PolicyStatus {
    return this.status;
  }
}

/**
 * Session taint around a decision: classes earlier turns carried join this one's, and this turn's classes are
 * remembered for the next. A taint store that cannot be read fails closed (the policy's fail-closed classes); one that
 * cannot be written costs only later turns their memory of this one, so the request goes on.
 */
async function decideWithTaint(active: CompiledPolicy, input: RouteInput): Promise<Decision> {
  const taint = active.taint!;
  const keys = await taint.keys(input);
  const carried = await taint.carried(keys).catch(() => [...active.failClosed]);
  const own = new Set(input.principal.defaultTags.map((t) => t.toLowerCase()));
  const mark = async (tags: Iterable<string>) => {
    const classes = [...tags].filter((t) => !own.has(t));
    if (!input.dryRun && keys.length > 0 && classes.length > 0) await taint.mark(keys, classes).catch(() => undefined);
  };
  let decision: Decision;
  try {
    decision = active.decide(input, { tainted: carried });
  } catch (err) {
    // A refused turn still carried its classes: the conversation is tainted all the same.
    await mark(active.tags(input).tags);
    throw err;
  }
  // Only classes this turn carried itself: the TTL runs from the last turn that carried the class, not from the last turn.
  // Classes held only because detection failed closed are not carried: one slow scan must not pin the session.
  const notCarried = new Set([...(decision.audit?.tainted ?? []), ...(decision.audit?.failedClosed ?? [])]);
  await mark(decision.tags.filter((t) => !notCarried.has(t)));
  return decision;
}
