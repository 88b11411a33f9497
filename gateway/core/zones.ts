/**
 * The one zone vocabulary of the product (upstreams, the Worker's HTTP edge destinations, policy data classes, records)
 * and the one rule that decides whether data of a class may reach a zone. Zones, narrowest first: `device` (this
 * machine's engine; `edge` is its old name and stays an alias), `on-prem`, `region:<name>` (a named region, e.g.
 * `region:eu-west`), `cloud` (anywhere).
 */
import { z } from 'zod';

export type Zone = 'device' | 'on-prem' | 'cloud' | `region:${string}`;
/** What a data class lists: a zone, or `region:*` for every named region. */
export type ZonePattern = Zone | 'region:*';

const REGION = /^region:[a-z0-9][a-z0-9-]{0,62}$/;

/** A zone written in config or policy, normalised (`edge` -> `device`); undefined when it is not in the vocabulary. */
export function parseZone(text: string, allowPattern = false): ZonePattern | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'edge' || t === 'device') return 'device';
  if (t === 'on-prem' || t === 'cloud') return t;
  if (allowPattern && t === 'region:*') return 'region:*';
  return REGION.test(t) ? (t as Zone) : undefined;
}

const vocabulary = "device (alias edge), on-prem, region:<name> (lower-case letters, digits, '-') or cloud";

/** zod for a zone in config (`upstreams[].zone`): the error lists the vocabulary. */
export const zoneSchema = z.string().transform((s, ctx): Zone => {
  const z0 = parseZone(s);
  if (z0 === undefined || z0 === 'region:*') {
    ctx.addIssue({ code: 'custom', message: `unknown zone '${s}': use ${vocabulary}` });
    return z.NEVER;
  }
  return z0;
});

/** zod for a zone a data class may reach (policy `tags.<class>.zones[]`): `region:*` allowed too. */
export const zonePatternSchema = z.string().transform((s, ctx): ZonePattern => {
  const z0 = parseZone(s, true);
  if (z0 === undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown zone '${s}': use ${vocabulary}, or region:*` });
    return z.NEVER;
  }
  return z0;
});

/** Self-hosted zones are priced at `prices.edge_per_m`; regions and cloud at the cloud model's price. */
export const isSelfHosted = (zone: string | null | undefined): boolean => zone === 'device' || zone === 'on-prem' || zone === 'edge';

/** A data class's limit on where it may go: the class and the zones it lists. */
export interface ZoneLimit {
  dataClass: string;
  zones: readonly ZonePattern[];
}

/** Whether one zone pattern admits a zone (`region:*` admits every named region). */
export const admits = (pattern: ZonePattern, zone: string): boolean => pattern === zone || (pattern === 'region:*' && zone.startsWith('region:'));

/** THE rule: may data carrying every class in `limits` reach `zone`? Every class must list the zone. */
export function mayReach(limits: readonly ZoneLimit[] | undefined, zone: Zone): boolean {
  if (!limits) return true;
  for (const l of limits) if (!l.zones.some((p) => admits(p, zone))) return false;
  return true;
}

/** The classes that forbid `zone` (to name them in errors and audits). */
export function forbiddingClasses(limits: readonly ZoneLimit[] | undefined, zone: Zone): string[] {
  return (limits ?? []).filter((l) => !l.zones.some((p) => admits(p, zone))).map((l) => l.dataClass);
}

/** Zones every class in `limits` may reach, as text for messages: `pii: device, on-prem`. */
export const describeLimits = (limits: readonly ZoneLimit[]): string => limits.map((l) => `${l.dataClass}: ${l.zones.join(', ')}`).join('; ');
