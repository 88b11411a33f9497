/** The gateway's configuration file, validated with zod. Every section is optional; defaults are the embedded ones. */
import { z } from 'zod';
import { keySchema, redisSchema, tenantSchema } from '../auth/auth-config.js';
import { pricesSchema, recordsSchema } from '../records/records-config.js';
import { resilienceSchema } from '../resilience/resilience-config.js';
import { batchSchema } from '../batch/batch-config.js';
import { cacheSchema } from '../cache/cache-config.js';
import { budgetFaultSchema } from '../budget/budget-config.js';
import { maskingSchema } from '../masking/masking-config.js';
import { tracingSchema } from '../tracing/tracing-config.js';
import { zoneSchema } from '../core/zones.js';

const modelEntry = z.union([
  z.string().min(1),
  z.strictObject({
    id: z.string().min(1),
    /** The name the upstream knows the model by, when it differs from the one clients use. */
    upstream_model: z.string().min(1).optional(),
  }),
]);

export const timeoutsSchema = z.strictObject({
  connect_ms: z.number().int().positive().default(5_000),
  first_byte_ms: z.number().int().positive().default(60_000),
  idle_ms: z.number().int().positive().default(60_000),
  total_ms: z.number().int().positive().default(600_000),
});

export const upstreamSchema = z.strictObject({
  id: z.string().regex(/^[a-zA-Z0-9_.-]+$/, 'letters, digits, _ . - only'),
  kind: z.enum(['openai']).default('openai'),
  /** Base URL including the version path, e.g. https://api.openai.com/v1 or http://127.0.0.1:8000/v1. */
  url: z.url({ protocol: /^https?$/ }),
  api_key: z.string().optional(),
  /** Egress zone (core/zones.ts): device (alias edge), on-prem, region:<name>, cloud. */
  zone: zoneSchema.default('cloud'),
  models: z.array(modelEntry).min(1),
  headers: z.record(z.string(), z.string()).default({}),
  max_connections: z.number().int().positive().default(128),
  timeouts: timeoutsSchema.default(() => timeoutsSchema.parse({})),
  /** Ask the upstream for usage on streams even when the client did not, so every stream can be accounted. */
  stream_usage: z.boolean().default(true),
  /** vLLM: poll its Prometheus endpoint for waiting requests and KV-cache usage (load balancing, routing). */
  metrics_url: z.url({ protocol: /^https?$/ }).optional(),
  metrics_poll_ms: z.number().int().positive().default(2_000),
  /** Price of a line sent through this upstream's own Batch API, as a share of its normal price (OpenAI: 0.5). */
  batch_discount: z.number().gt(0).lte(1).default(0.5),
});

export const serverLimitsSchema = z.strictObject({
  /** Total size of request headers (Node's maxHeaderSize). */
  max_header_bytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024),
  /** Headers per request. */
  max_headers: z.number().int().positive().default(100),
  /** A client must send all headers within this time (slow senders). */
  headers_timeout_ms: z.number().int().positive().default(10_000),
  /** ... and the whole request body within this time. */
  request_timeout_ms: z.number().int().positive().default(60_000),
  /** Idle keep-alive connections close after this. */
  keep_alive_timeout_ms: z.number().int().positive().default(5_000),
  /** Messages per chat request. */
  max_messages: z.number().int().positive().default(2048),
});

export const serverSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  body_limit_bytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  shutdown_grace_ms: z.number().int().nonnegative().default(10_000),
  limits: serverLimitsSchema.default(() => serverLimitsSchema.parse({})),
  /** CORS is off unless origins are listed. */
  cors: z.strictObject({ origins: z.array(z.string().min(1)).min(1) }).optional(),
  /** With keys configured, require an admin key for /metrics too. */
  metrics_auth: z.boolean().default(false),
  /** TLS on the Node server itself, for deployments without a terminating proxy. */
  tls: z.strictObject({ cert_file: z.string().min(1), key_file: z.string().min(1) }).optional(),
});

export const edgeModelSchema = z.strictObject({
  id: z.string().min(1),
  path: z.string().min(1),
  /** auto (default) picks the first file present (q4, bnb4, q4f16, fp32, fp16, then dynamic int8); a name or an onnx/ file forces one. */
  variant: z.union([z.enum(['auto', 'fp32', 'int8', 'q4', 'bnb4', 'q4f16', 'fp16', 'qint8', 'quint8']), z.string().regex(/\.onnx$/)]).optional(),
  /** `embeddings`: a feature-extraction export (BERT/MiniLM/bge-style) served on /v1/embeddings; default: text generation. */
  task: z.enum(['generate', 'embeddings']).optional(),
});

export const edgeSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Model folders to serve; empty means the embedded default model (built once, cached on disk). */
  models: z.array(edgeModelSchema).default([]),
  cache_dir: z.string().default('.cache/switchyard'),
  /** A model that cannot be served stops `switchyard serve` (exit), or the gateway serves without it (/readyz 503, /v1/models says why). */
  on_load_failure: z.enum(['exit', 'serve']).default('exit'),
  /** How long a request without a deadline waits for a model that is still loading. */
  load_wait_ms: z.number().int().nonnegative().default(30_000),
  // Engine knobs default in one place, the edge runtime's ENGINE_DEFAULTS (absent here = the engine's default).
  kv_budget_mb: z.number().positive().optional(),
  max_num_seqs: z.number().int().positive().optional(),
  max_batched_tokens: z.number().int().positive().optional(),
  /**
   * onnxruntime's pool threads between kernels: off (sleep; least CPU, and 1.5-2x the tokens when anything else holds
   * a core), within-run (spin inside a pass, ~5-10% faster on an otherwise idle box), on (ORT's own default).
   */
  thread_spinning: z.enum(['off', 'within-run', 'on']).optional(),
});

export const loggingSchema = z.strictObject({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export const configSchema = z
  .strictObject({
    server: serverSchema.default(() => serverSchema.parse({})),
    upstreams: z.array(upstreamSchema).default([]),
    edge: edgeSchema.default(() => edgeSchema.parse({})),
    logging: loggingSchema.default(() => loggingSchema.parse({})),
    /** Virtual keys; none = auth off, which is allowed only on a loopback address. */
    keys: z.array(keySchema).default([]),
    /** Per-tenant limits, shared by all of a tenant's keys. */
    tenants: z.record(z.string(), tenantSchema).default({}),
    /** Shared state for replicas (rate limits, budgets); absent = in memory. */
    redis: redisSchema.optional(),
    records: recordsSchema.default(() => recordsSchema.parse({})),
    resilience: resilienceSchema.default(() => resilienceSchema.parse({})),
    cache: cacheSchema.default(() => cacheSchema.parse({})),
    /** Routing policy file (YAML, see policies/README.md), watched and hot-reloaded. */
    policies: z
      .strictObject({
        file: z.string().min(1),
        poll_ms: z.number().int().positive().default(500),
        /** new_zones: an edit is replayed over recent records first and held back if a data class would reach a new zone. */
        gate: z.enum(['off', 'new_zones']).default('off'),
        /** How far back replay (the gate and POST /admin/policies/replay) reads records; at most 30 days (read whole). */
        replay_window_hours: z.number().positive().max(720).default(168),
      })
      .optional(),
    prices: pricesSchema.default(() => pricesSchema.parse({})),
    /** The Batch API (/v1/files, /v1/batches): lines fill idle edge capacity. */
    batch: batchSchema.default(() => batchSchema.parse({})),
    /** How spend budgets (defined in the policy file) behave when their store is slow or down. */
    budgets: budgetFaultSchema.default(() => budgetFaultSchema.parse({})),
    /** Reversible masking: encrypted, expiring per-session placeholder tables. */
    masking: maskingSchema.default(() => maskingSchema.parse({})),
    /** OpenTelemetry traces over OTLP/HTTP; absent = off. */
    tracing: tracingSchema.optional(),
  })
  .superRefine((cfg, ctx) => {
    const ids = new Set<string>();
    cfg.keys.forEach((k, i) => {
      if (ids.has(k.id)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'id'], message: `duplicate key id '${k.id}'` });
      ids.add(k.id);
    });
    const seen = new Set<string>();
    cfg.upstreams.forEach((u, i) => {
      if (seen.has(u.id)) ctx.addIssue({ code: 'custom', path: ['upstreams', i, 'id'], message: `duplicate upstream id '${u.id}'` });
      seen.add(u.id);
    });
    // The gate replays recorded traffic: without records it would replay nothing and let every edit through.
    if (cfg.policies?.gate === 'new_zones' && cfg.records.sink === 'none')
      ctx.addIssue({ code: 'custom', path: ['policies', 'gate'], message: 'new_zones replays recent records: it needs records.sink jsonl or redis' });
  });

export type GatewayConfig = z.infer<typeof configSchema>;
export type UpstreamConfig = z.infer<typeof upstreamSchema>;
export type EdgeConfig = z.infer<typeof edgeSchema>;
