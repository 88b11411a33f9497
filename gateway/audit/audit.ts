/**
 * The decision audit: did data of a class reach a zone? Answered from records alone. A record's data went to every
 * upstream it called (retries, fallbacks, both sides of a hedge: `decision.tried`), and a cache hit is counted where
 * its answer was made. With a zone asked for, every record of the class that reached it is listed; without one, every
 * record of the class that reached a zone its own recorded limits forbid.
 */
import { admits, mayReach, type Zone, type ZonePattern } from '../core/zones.js';
import type { RequestRecord } from '../records/request-record.js';

export interface AuditQuery {
  /** The data class (tag), lower-case. */
  dataClass: string;
  /** A zone or `region:*`; absent: check each record against its own recorded zone limits. */
  zone?: ZonePattern;
  from: number;
  to: number;
}

export interface AuditFinding {
  id: string;
  time: string;
  classes: string[];
  /** The zones (and upstreams) the record's data reached that the query flags. */
  reached: Array<{ upstream: string; zone: string }>;
  rule: string | null;
  policy_version: string | null;
  cache: string | null;
  why: string;
}

export interface AuditResult {
  query: { class: string; zone: string | null; from: string; to: string };
  /** Records in the window, and those carrying the class. */
  records: number;
  with_class: number;
  /** Records without decision fields (written before decision audit): judged by their destination only. */
  without_decision: number;
  violations: AuditFinding[];
}

/** Where a record's data went: every upstream called, or on a cache hit the destination that made the answer. */
export function reachedZones(r: RequestRecord): Array<{ upstream: string; zone: string }> {
  const out = new Map<string, string>();
  for (const t of r.decision?.tried ?? []) if (t.zone) out.set(t.upstream, t.zone);
  if (r.destination && r.zone) out.set(r.destination, r.zone);
  return [...out].map(([upstream, zone]) => ({ upstream, zone }));
}

export function audit(records: readonly RequestRecord[], q: AuditQuery): AuditResult {
  const inWindow = records.filter((r) => r.time >= q.from && r.time < q.to);
  const withClass = inWindow.filter((r) => r.tags.some((t) => t.toLowerCase() === q.dataClass));
  const violations: AuditFinding[] = [];
  for (const r of withClass) {
    const reached = reachedZones(r);
    let flagged: typeof reached;
    let why: string;
    if (q.zone) {
      const zone = q.zone;
      flagged = reached.filter((x) => admits(zone, x.zone));
      why = `'${q.dataClass}' reached ${zone}`;
    } else {
      const limits = (r.decision?.zone_limits ?? [])
        .filter((l) => l.class === q.dataClass)
        .map((l) => ({ dataClass: l.class, zones: l.zones as ZonePattern[] }));
      flagged = limits.length ? reached.filter((x) => !mayReach(limits, x.zone as Zone)) : [];
      why = `'${q.dataClass}' reached a zone its policy forbids (${limits.map((l) => l.zones.join('|')).join('; ')})`;
    }
    if (flagged.length === 0) continue;
    violations.push({
      id: r.id,
      time: new Date(r.time).toISOString(),
      classes: r.tags,
      reached: flagged,
      rule: r.rule,
      policy_version: r.decision?.policy_version ?? null,
      cache: r.cache,
      why,
    });
  }
  return {
    query: { class: q.dataClass, zone: q.zone ?? null, from: new Date(q.from).toISOString(), to: new Date(q.to).toISOString() },
    records: inWindow.length,
    with_class: withClass.length,
    without_decision: withClass.filter((r) => !r.decision).length,
    violations,
  };
}

export function formatAudit(a: AuditResult): string {
  const head = `audit: class '${a.query.class}'${a.query.zone ? ` in zone ${a.query.zone}` : ' outside its allowed zones'}, ${a.query.from} .. ${a.query.to}`;
  const lines = [head, `records: ${a.records}, with the class: ${a.with_class}, violations: ${a.violations.length}`];
  if (a.without_decision) lines.push(`note: ${a.without_decision} record(s) predate decision audit (judged by destination only)`);
  for (const v of a.violations.slice(0, 50))
    lines.push(
      `  ${v.time} ${v.id} rule=${v.rule ?? '-'} cache=${v.cache ?? '-'} reached ${v.reached.map((x) => `${x.upstream}@${x.zone}`).join(', ')}`,
    );
  if (a.violations.length > 50) lines.push(`  ... and ${a.violations.length - 50} more (--format json lists all)`);
  return `${lines.join('\n')}\n`;
}
