/** The edge-first cascade's outcome over a window: how many answers the edge kept, and what keeping them saved. */
import type { RequestRecord } from '../records/request-record.js';

export interface CascadeSummary {
  /** Requests a cascade rule handled (kept + escalated). */
  requests: number;
  kept: number;
  escalated: number;
  /** kept / requests, 0..1. */
  kept_share: number;
  /** What the kept answers would have cost on the cloud, less what they cost on the edge. */
  kept_saved_usd: number;
}

/** Undefined when no record in the window went through a cascade. */
export function cascadeSummary(records: readonly RequestRecord[]): CascadeSummary | undefined {
  let kept = 0;
  let escalated = 0;
  let saved = 0;
  for (const r of records) {
    if (r.cascade === 'kept') {
      kept++;
      saved += r.all_cloud_cost_usd - r.cost_usd;
    } else if (r.cascade === 'escalated') escalated++;
  }
  const requests = kept + escalated;
  if (requests === 0) return undefined;
  return { requests, kept, escalated, kept_share: kept / requests, kept_saved_usd: saved };
}
