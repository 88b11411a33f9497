/**
 * The prefill tokens a step may carry while others decode, by headcount: when several sequences wait for their first
 * token (or for a recompute), they get the budget's share of their number among all live sequences. The pacer's cap
 * (prefill-pacer.ts) alone sizes prefill by the cost of the current decode pass, which is cheap when few sequences
 * decode: 16 requests arriving together were admitted a few dozen tokens per step while the first three decoded, and
 * the last waited ~2x the time all prompts take to prefill (issue 14: TTFT p95 2.1 s vs llama.cpp's 1.5 s). One
 * sequence waiting alone (a long prompt arriving mid-run) gets no share: the pacer's TPOT guarantee holds for it.
 */
export function waitingShare(budget: number, waiting: number, decoding: number): number {
  if (waiting < 2) return 0;
  return Math.floor((budget * waiting) / (waiting + decoding));
}
