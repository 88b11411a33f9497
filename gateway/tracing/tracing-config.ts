/** The `tracing` config section: OpenTelemetry traces over OTLP/HTTP. Absent = off (OpenTelemetry is not even loaded). */
import { z } from 'zod';

export const tracingSchema = z.strictObject({
  /** The collector's OTLP/HTTP endpoint: a base URL (`/v1/traces` is appended) or the full traces URL. */
  otlp_endpoint: z.url({ protocol: /^https?$/ }),
  service_name: z.string().min(1).default('switchyard'),
  /** Share of new traces recorded (a request carrying a sampled `traceparent` follows its parent's decision). */
  sample_ratio: z.number().min(0).max(1).default(1),
  /** How often finished spans are sent in a batch. */
  export_interval_ms: z.number().int().positive().default(1000),
});

export type TracingConfig = z.infer<typeof tracingSchema>;

/** The traces URL for an endpoint given as a base (OTEL_EXPORTER_OTLP_ENDPOINT style) or in full. */
export function tracesUrl(endpoint: string): string {
  return /\/v1\/traces\/?$/.test(endpoint) ? endpoint : `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
