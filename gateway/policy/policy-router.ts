/** The Router backed by a policy file: holds the active compiled policy, swaps it atomically on a valid reload. */
import type { Decision, RouteInput, Router } from '../core/decision.js';
import type { ModelCatalog } from '../core/model-catalog.js';
import { parseYamlFile } from '../config/load-config.js';
import { compilePolicy, type CompiledPolicy } from './compile-policy.js';
import { policySchemaFor } from './policy-schema.js';
import type { LiveStats } from '../resilience/live-stats.js';

export interface PolicyStatus {
  source: string;
  version: string;
  loadedAt: string;
  /** The last rejected edit (file:line: field: message), if the newest text did not validate. */
  lastError: string | null;
}

/** A short content hash: the version every decision and cache key carries. */
async function versionOf(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return `v1-${[...d.slice(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export async function compileText(text: string, source: string, catalog: ModelCatalog, live?: LiveStats): Promise<CompiledPolicy> {
  // Every rejection (schema, bad regex, unknown upstream) is `file:line: field: message`, from the CLI, startup and reload.
  const policy = parseYamlFile(
    text,
    source,
    policySchemaFor((id) => catalog.upstream(id) !== undefined),
  );
  return compilePolicy(policy, await versionOf(text), catalog, live);
}

export class PolicyRouter implements Router {
  private constructor(
    private active: CompiledPolicy,
    private status: PolicyStatus,
    private readonly catalog: ModelCatalog,
    private readonly live?: LiveStats,
  ) {}

  static async create(text: string, source: string, catalog: ModelCatalog, live?: LiveStats): Promise<PolicyRouter> {
    const compiled = await compileText(text, source, catalog, live);
    return new PolicyRouter(compiled, { source, version: compiled.version, loadedAt: new Date().toISOString(), lastError: null }, catalog, live);
  }

  decide(input: RouteInput): Decision {
    // One read of the reference: a request decides against one version even if a reload lands mid-way.
    return this.active.decide(input);
  }

  /** Validates and swaps in a new version; an invalid one is rejected and the last good version keeps serving. */
  async reload(text: string): Promise<{ ok: boolean; error?: string }> {
    try {
      const next = await compileText(text, this.status.source, this.catalog, this.live);
      this.active = next;
      this.status = { ...this.status, version: next.version, loadedAt: new Date().toISOString(), lastError: null };
      return { ok: true };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.status = { ...this.status, lastError: message };
      return { ok: false, error: message };
    }
  }

  get current(): PolicyStatus {
    return this.status;
  }
}
