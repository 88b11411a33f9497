/** The fail-closed answer when a data class's zones hold no healthy destination: 503 naming the class. */
import type { Decision, DecisionAudit } from './decision.js';
import { GatewayError } from './errors.js';
import { describeLimits, type ZoneLimit } from './zones.js';

/** A refusal that still knows the decision it refused, so the request's record carries its classes and limits. */
export class ZoneRefusal extends GatewayError {
  refused?: Pick<Decision, 'tags' | 'ruleId' | 'policyVersion' | 'zoneLimits'> & { audit?: DecisionAudit };
}

export function noAllowedZone(
  classes: readonly string[],
  limits: readonly ZoneLimit[],
  model: string,
  refused?: ZoneRefusal['refused'],
): ZoneRefusal {
  const zones = describeLimits(limits.filter((l) => classes.includes(l.dataClass)));
  const err = new ZoneRefusal(
    `No healthy destination for '${model}' in a zone data class ${classes.map((c) => `'${c}'`).join(', ')} may reach (${zones}); not sent to a wider zone.`,
    { status: 503, code: 'no_allowed_zone', param: 'model' },
  );
  err.refused = refused;
  return err;
}

/** After dispatch ran out of allowed destinations: every limiting class is named. */
export function noAllowedZoneError(decision: Decision, model: string): GatewayError {
  const limits = decision.zoneLimits ?? [];
  return noAllowedZone(
    limits.map((l) => l.dataClass),
    limits,
    model,
  );
}
