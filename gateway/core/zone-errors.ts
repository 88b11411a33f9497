/** The fail-closed answer when a data class's zones hold no healthy destination: 503 naming the class. */
import type { Decision } from './decision.js';
import { GatewayError } from './errors.js';
import type { ZoneLimit } from './zones.js';

export function noAllowedZone(classes: readonly string[], limits: readonly ZoneLimit[], model: string): GatewayError {
  const zones = limits.filter((l) => classes.includes(l.dataClass)).map((l) => `${l.dataClass}: ${l.zones.join(', ')}`);
  return new GatewayError(
    `No healthy destination for '${model}' in a zone data class ${classes.map((c) => `'${c}'`).join(', ')} may reach (${zones.join('; ')}); not sent to a wider zone.`,
    { status: 503, code: 'no_allowed_zone', param: 'model' },
  );
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
