/** Live per-destination numbers the router and dispatch share: observed time to first byte, and what upstreams report. */
import { LatencyWindow } from './latency-window.js';

export class LiveStats {
  private readonly firstByteMs = new Map<string, LatencyWindow>();
  private readonly perTokenMs = new Map<string, LatencyWindow>();

  firstByte(upstream: string): LatencyWindow {
    let w = this.firstByteMs.get(upstream);
    if (!w) this.firstByteMs.set(upstream, (w = new LatencyWindow()));
    return w;
  }

  /** Time per output token after the first, from finished requests. */
  perToken(upstream: string): LatencyWindow {
    let w = this.perTokenMs.get(upstream);
    if (!w) this.perTokenMs.set(upstream, (w = new LatencyWindow()));
    return w;
  }

  /** Predicted total time for `outputTokens` on an upstream; undefined until enough samples. */
  predictTotalMs(upstream: string, outputTokens: number): number | undefined {
    const first = this.firstByte(upstream).p95();
    const per = this.perToken(upstream).p50();
    if (first === undefined || per === undefined) return undefined;
    return first + per * Math.max(0, outputTokens - 1);
  }
}
