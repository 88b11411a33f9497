/**
 * Replay before activation: a candidate policy text is replayed over the recent records, and (with
 * `policies.gate: new_zones`) refused when any request's data class would reach a zone it did not before, unless the
 * operator forces it (POST /admin/policies/activate {"force": true}). Web-standard: records come through `read`.
 */
import type { ModelCatalog } from '../core/model-catalog.js';
import type { CompiledPolicy } from '../policy/compile-policy.js';
import type { PricesConfig } from '../records/records-config.js';
import type { RequestRecord } from '../records/request-record.js';
import { replay, type ReplayReport } from './replay.js';

export interface PolicyAdmin {
  /** Replays recent records under the policy text (not activated). */
  replay(text: string, windowMs?: number): Promise<ReplayReport>;
  /** Activates the edit the gate held back; `force` is required when it was held for new zones. */
  activate(force: boolean): Promise<{ ok: boolean; version?: string; error?: string }>;
}

export interface ReplaySource {
  catalog: ModelCatalog;
  prices: PricesConfig;
  /** Records of the last `windowMs`. */
  read(windowMs: number): Promise<RequestRecord[]>;
  windowMs: number;
}

export async function replayOver(src: ReplaySource, policy: CompiledPolicy, windowMs = src.windowMs): Promise<ReplayReport> {
  return replay(await src.read(windowMs), policy, { catalog: src.catalog, prices: src.prices });
}

/** The activation gate: a reason to hold the edit back, or undefined to let it through. */
export function newZonesGate(src: ReplaySource): (next: CompiledPolicy) => Promise<string | undefined> {
  return async (next) => {
    const report = await replayOver(src, next);
    if (report.new_zones.length === 0) return undefined;
    const classes = [...new Set(report.new_zones.flatMap((n) => n.classes))].join(', ');
    const zones = [...new Set(report.new_zones.flatMap((n) => n.zones))].join(', ');
    return `held back by the replay gate: ${report.new_zones.length} recorded request(s) carrying ${classes} would reach new zone(s) ${zones}; POST /admin/policies/activate {"force": true} to activate anyway`;
  };
}
