/**
 * Detectors run under a guard: a detector run that throws, or takes longer than the policy's time budget, fails
 * closed, i.e. the request is treated as carrying each class in `detection.fail_closed` that the detectors could have
 * found. Scanning is synchronous, so an overrun is noticed when it ends (it cannot be cut short), which is still before
 * anything is sent.
 */
import type { DetectorSpec, Finding } from './detectors.js';

export interface GuardedScan {
  findings: Finding[];
  /** Classes assumed because detection failed; empty when it ran cleanly. */
  failedClosed: string[];
  /** Why it failed, for the trace. */
  failure?: string;
}

/** A detector's version: a short hash of what decides its findings (pattern, flags, check), stable across runs. */
export function detectorVersion(d: DetectorSpec): string {
  const text = `${d.pattern.source}/${d.pattern.flags}/${d.check ? d.check.name || 'check' : ''}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export type Scanner = (text: string, detectors: readonly DetectorSpec[]) => Finding[];

/** `run` does the scanning (the whole request, string by string); its result rides along when it ran cleanly. */
export function guardedScan<T extends { findings: Finding[] }>(
  run: () => T,
  detectors: readonly DetectorSpec[],
  opts: { budgetMs: number; failClosed: ReadonlySet<string>; now?: () => number },
): GuardedScan & { result?: T } {
  const now = opts.now ?? (() => performance.now());
  // Only classes these detectors can find fail closed: a class no detector looks for is not made up.
  const closed = () => [...new Set(detectors.map((d) => d.tag.toLowerCase()))].filter((t) => opts.failClosed.has(t));
  const started = now();
  let result: T;
  try {
    result = run();
  } catch (err) {
    return { findings: [], failedClosed: closed(), failure: `detectors threw (${err instanceof Error ? err.message : String(err)})` };
  }
  const took = now() - started;
  if (took > opts.budgetMs)
    return { findings: result.findings, failedClosed: closed(), failure: `detectors took ${took.toFixed(1)} ms > ${opts.budgetMs} ms` };
  return { findings: result.findings, failedClosed: [], result };
}
