/**
 * What a decision reads from live state, behind one interface: the live gateway reads LiveStats and the upstreams and
 * notes every value it read (the record keeps that snapshot); a replay reads the recorded snapshot back, so the same
 * policy decides the same way on the same inputs.
 */
import type { LiveSnapshot } from '../core/decision.js';
import type { Upstream, UpstreamLoad } from '../core/upstream.js';
import type { LiveStats } from '../resilience/live-stats.js';

export interface LiveView {
  firstByteP95(upstream: string): number | undefined;
  predictTotalMs(upstream: string, outputTokens: number): number | undefined;
  load(upstream: Upstream): UpstreamLoad;
  /** The values read so far. */
  readonly snapshot: LiveSnapshot;
}

const emptySnapshot = (): LiveSnapshot => ({ firstByteP95: {}, predictedTotalMs: {}, load: {} });

/** Reads live numbers once per upstream per decision and remembers them. */
export function recordingView(live: LiveStats | undefined): LiveView {
  const snapshot = emptySnapshot();
  return {
    snapshot,
    firstByteP95(id) {
      if (!(id in snapshot.firstByteP95)) snapshot.firstByteP95[id] = live?.firstByte(id).p95() ?? null;
      return snapshot.firstByteP95[id] ?? undefined;
    },
    predictTotalMs(id, out) {
      if (!(id in snapshot.predictedTotalMs)) snapshot.predictedTotalMs[id] = live?.predictTotalMs(id, out) ?? null;
      return snapshot.predictedTotalMs[id] ?? undefined;
    },
    load(u) {
      return (snapshot.load[u.id] ??= { ...u.load() });
    },
  };
}

/** Answers from a recorded snapshot; a value the recording never read counts as "no samples yet" (and is noted). */
export function snapshotView(recorded: LiveSnapshot, missing?: (what: string) => void): LiveView {
  const snapshot = emptySnapshot();
  return {
    snapshot,
    firstByteP95(id) {
      if (!(id in recorded.firstByteP95)) missing?.(`first-byte p95 of ${id}`);
      return (snapshot.firstByteP95[id] = recorded.firstByteP95[id] ?? null) ?? undefined;
    },
    predictTotalMs(id) {
      if (!(id in recorded.predictedTotalMs)) missing?.(`predicted total of ${id}`);
      return (snapshot.predictedTotalMs[id] = recorded.predictedTotalMs[id] ?? null) ?? undefined;
    },
    load(u) {
      const l = recorded.load[u.id];
      if (!l) missing?.(`load of ${u.id}`);
      return (snapshot.load[u.id] = l ?? { inFlight: 0 });
    },
  };
}
