/** Live per-destination numbers the router and dispatch share: observed time to first byte, and what upstreams report. */
import { LatencyWindow } from './latency-window.js';

export class LiveStats {
  private readonly firstByteMs = new Map<string, LatencyWindow>();

  firstByte(upstream: string): LatencyWindow {
    let w = this.firstByteMs.get(upstream);
    if (!w) this.firstByteMs.set(upstream, (w = new LatencyWindow()));
    return w;
  }
}
