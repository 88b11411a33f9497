/**
 * The one token estimate, made once per request before anything is sent. Counting prompt tokens exactly would cost
 * more than the rest of the request (PLATFORM.md: ~2.5 µs per token), so prompts are estimated at ~4 bytes per token;
 * every consumer reconciles with the usage the upstream reports when the request ends.
 */

/** Output tokens assumed when a request declares no max_tokens (cost estimates and latency predictions). */
export const OUTPUT_TOKENS_IF_UNSET = 256;

export interface TokenEstimate {
  /** ~ceil(body bytes / 4). */
  prompt: number;
  /** max_completion_tokens ?? max_tokens, when the request sets one. */
  declaredOutput: number | undefined;
  /** declaredOutput, else OUTPUT_TOKENS_IF_UNSET. */
  output: number;
}

export function estimateTokens(bodyBytes: number, declaredOutput: number | null | undefined): TokenEstimate {
  const declared = declaredOutput ?? undefined;
  return { prompt: Math.ceil(bodyBytes / 4), declaredOutput: declared, output: declared ?? OUTPUT_TOKENS_IF_UNSET };
}
