/**
 * Starts tracing when configured. OpenTelemetry is imported here lazily, so a gateway without `tracing:` never loads
 * it (nor pays its start-up cost), and the Worker bundle, which never calls this, does not contain it.
 */
import type { RequestContext } from '../core/request-context.js';
import type { RequestTracer } from '../core/tracing.js';
import type { TracingConfig } from './tracing-config.js';

export async function startTracing(config: TracingConfig | undefined): Promise<RequestTracer<RequestContext> | undefined> {
  if (!config) return undefined;
  const { OtelRequestTracer } = await import('./otel-tracer.js');
  return new OtelRequestTracer(config);
}
