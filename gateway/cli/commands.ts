/**
 * Every `switchyard` command as data: words, flags with defaults, positionals, examples, and a lazy loader of its
 * implementation. Adding a command is one entry here plus one file exporting `run(args)`.
 * Engine defaults shown in help are text (importing the edge runtime would cost ~0.1-0.7 s on every --help);
 * test/cli/cli.test.ts checks they equal ENGINE_DEFAULTS and PRESET_NAMES.
 */
import type { CommandSpec, FlagSpec } from './command-line.js';

const logFlags: Record<string, FlagSpec> = {
  'log-format': {
    type: 'string',
    value: 'auto|pretty|json',
    default: 'auto',
    description: 'auto: readable lines on a terminal, JSON lines otherwise (also SWITCHYARD_LOG_FORMAT)',
  },
};

/** Where audit and replay read records from, and how they print (the same sources `report` reads). */
const recordsReaderFlags: Record<string, FlagSpec> = {
  records: { type: 'string', value: 'FILE', description: 'one JSONL records file (else --redis, --dir, or the records section of --config)' },
  config: { type: 'string', short: 'c', value: 'FILE', description: 'gateway config: its upstreams and zones, prices, and records sink' },
  dir: { type: 'string', value: 'DIR', description: 'JSONL records directory (default records)' },
  redis: { type: 'string', value: 'URL', description: 'read the Redis stream sink instead, e.g. redis://127.0.0.1:6379' },
  stream: { type: 'string', value: 'KEY', default: 'switchyard:records', description: 'Redis stream key' },
  format: { type: 'string', short: 'f', value: 'FORMAT', default: 'table', description: 'table | json' },
  out: { type: 'string', short: 'o', value: 'FILE', description: 'write to a file instead of stdout' },
};

export const COMMANDS: readonly CommandSpec[] = [
  {
    path: ['serve'],
    summary: 'start the gateway (embedded defaults without a config: 127.0.0.1:8080, the built-in edge model)',
    flags: {
      config: { type: 'string', short: 'c', value: 'FILE', description: 'gateway config (YAML); default $SWITCHYARD_CONFIG, else embedded defaults' },
      port: { type: 'string', short: 'p', value: 'N', description: 'listen port, overrides server.port (default 8080)' },
      host: { type: 'string', value: 'HOST', description: 'bind address, overrides server.host (default 127.0.0.1)' },
      'log-level': { type: 'string', value: 'LEVEL', description: 'trace|debug|info|warn|error|fatal|silent, overrides logging.level' },
      ...logFlags,
    },
    examples: [
      'switchyard serve',
      'switchyard serve --config gateway.yaml --port 9000',
      'SWITCHYARD_CONFIG=gateway.yaml switchyard serve --log-format json',
    ],
    load: () => import('./serve-command.js'),
  },
  {
    path: ['edge', 'build-model'],
    summary: 'write a random-weight model folder (nothing is downloaded; its text is meaningless)',
    flags: {
      preset: { type: 'string', value: 'NAME', default: 'tiny-llama', description: 'tiny-llama | tiny-gpt2 | small-llama | bench-50m' },
      seed: { type: 'string', value: 'N', default: '1', description: 'weight seed (same seed, same model)' },
      out: { type: 'string', value: 'DIR', description: 'output folder (default models/<preset>-seed<N>)' },
      variants: { type: 'string', value: 'LIST', default: 'fp32,int8,q4', description: 'weight formats to write: fp32, int8, q4' },
      'accuracy-level': {
        type: 'string',
        value: 'N',
        default: '0',
        description: 'MatMulNBits accuracy level for q4 (0 exact, 4 int8 activations: faster)',
      },
    },
    examples: [
      'switchyard edge build-model --preset tiny-llama --seed 1 --out models/tiny',
      'switchyard edge build-model --preset bench-50m --variants q4 --accuracy-level 4',
    ],
    load: () => import('./edge-build-model-command.js'),
  },
  {
    path: ['edge', 'serve'],
    summary: 'serve one model folder as a standalone OpenAI-compatible edge server (/v1/*, /health, /metrics)',
    flags: {
      model: { type: 'string', short: 'm', value: 'DIR', description: 'model folder (required; build one with `switchyard edge build-model`)' },
      id: { type: 'string', value: 'NAME', description: 'model name clients use (default: the folder name)' },
      port: { type: 'string', short: 'p', value: 'N', default: '8090', description: 'listen port' },
      host: { type: 'string', value: 'HOST', default: '127.0.0.1', description: 'bind address' },
      variant: {
        type: 'string',
        value: 'auto|q4|bnb4|q4f16|fp32|fp16|int8|FILE.onnx',
        default: 'auto',
        description: 'which weights to load; auto takes the first file present, in that order (dynamic int8 last)',
      },
      'kv-budget-mb': { type: 'string', value: 'N', default: '256', description: 'paged KV pool size' },
      'max-num-seqs': { type: 'string', value: 'N', default: '32', description: 'sequences decoding together' },
      'max-batched-tokens': { type: 'string', value: 'N', default: '512', description: 'tokens per engine step' },
      'shutdown-grace-ms': { type: 'string', value: 'MS', default: '10000', description: 'on SIGINT/SIGTERM: let streams finish this long' },
      ...logFlags,
    },
    examples: [
      'switchyard edge serve --model models/tiny --port 8090',
      'switchyard edge serve --model models/bench --variant int8 --max-num-seqs 16',
    ],
    load: () => import('./edge-serve-command.js'),
  },
  {
    path: ['edge', 'inspect'],
    summary: 'what a model folder holds and how the engine will run it: architecture, files, variant, tokenizer, execution path',
    positionals: [{ name: 'DIR', required: true, description: 'the model folder (config.json, tokenizer files, onnx/*.onnx)' }],
    flags: {
      variant: { type: 'string', value: 'auto|q4|…|FILE.onnx', default: 'auto', description: 'which weights to inspect (as edge serve --variant)' },
      json: { type: 'boolean', default: false, description: 'print the report as JSON' },
    },
    examples: ['switchyard edge inspect models/tiny-llama-seed1', 'switchyard edge inspect ./my-export --variant fp32 --json'],
    load: () => import('./edge-inspect-command.js'),
  },
  {
    path: ['edge', 'convert'],
    summary: 'convert a Hugging Face checkpoint (safetensors: Llama, Mistral, Qwen2, SmolLM, GPT-2) into an edge model folder, fp32/int8/q4',
    flags: {
      from: {
        type: 'string',
        value: 'DIR',
        description: 'checkpoint folder: config.json, model.safetensors (or shards + index), tokenizer files (required)',
      },
      to: { type: 'string', value: 'DIR', description: 'model folder to write (required; written atomically)' },
      quant: { type: 'string', value: 'fp32|int8|q4|all', default: 'all', description: 'weight formats to write' },
      'max-context': { type: 'string', value: 'N', description: "cap the context below the checkpoint's" },
      'accuracy-level': {
        type: 'string',
        value: '0|1|2|4',
        description: 'MatMulNBits accuracy level (default per format: 4, measured fastest; rows stay batch-independent)',
      },
      'int8-kernel': {
        type: 'string',
        value: 'nbits|dequantize',
        description: 'int8 through 8-bit MatMulNBits (default) or DequantizeLinear + MatMul',
      },
    },
    examples: [
      'switchyard edge convert --from ~/ckpt/SmolLM2-135M-Instruct --to models/smollm2 --quant all',
      'switchyard edge convert --from ./qwen2 --to models/qwen2 --quant q4',
    ],
    load: () => import('./edge-convert-command.js'),
  },
  {
    path: ['edge', 'quantize'],
    summary: 'quantize an existing fp32 ONNX model folder (MatMul/Gemm weights, token embeddings) to int8 or 4-bit',
    flags: {
      from: { type: 'string', value: 'DIR', description: 'model folder with onnx/model.onnx (required)' },
      to: { type: 'string', value: 'DIR', description: 'where to write (default: in place)' },
      quant: { type: 'string', value: 'int8|q4|all', default: 'all', description: 'weight formats to write' },
      'accuracy-level': { type: 'string', value: '0|1|2|4', description: 'MatMulNBits accuracy level (default 4)' },
      'int8-kernel': { type: 'string', value: 'nbits|dequantize', description: 'int8 kernel (default nbits)' },
    },
    examples: ['switchyard edge quantize --from models/my-export --quant q4'],
    load: () => import('./edge-quantize-command.js'),
  },
  {
    path: ['keys', 'create'],
    summary: 'print a new virtual key once, and the config line that admits it (only its SHA-256 is stored)',
    flags: {
      id: { type: 'string', value: 'ID', description: 'key id shown in logs and records (default key-<random>)' },
      tenant: { type: 'string', value: 'TENANT', default: 'default', description: 'tenant the key belongs to' },
      role: { type: 'string', value: 'user|admin', default: 'user', description: 'admin may use /admin/* and /dashboard' },
      models: { type: 'string', value: 'LIST', description: 'models (names or globs, comma-separated) the key may use (default any)' },
      tags: { type: 'string', value: 'LIST', description: 'tags every request of this key carries (comma-separated)' },
      rpm: { type: 'string', value: 'N', description: 'requests per minute' },
      tpm: { type: 'string', value: 'N', description: 'tokens per minute' },
    },
    examples: [
      'switchyard keys create --id alice --tenant acme --rpm 60',
      'switchyard keys create --id ops --role admin',
      "switchyard keys create --id bot --models 'gpt-4o*,switchyard-tiny' --tags internal",
    ],
    load: () => import('./keys-command.js'),
  },
  {
    path: ['policies', 'check'],
    summary: 'validate a routing policy against a gateway config (errors name file, line and field)',
    positionals: [{ name: 'FILE', required: true, description: 'the policy (YAML)' }],
    flags: {
      config: {
        type: 'string',
        short: 'c',
        value: 'FILE',
        description: 'the gateway config whose upstreams the policy routes to (default $SWITCHYARD_CONFIG, else embedded defaults)',
      },
    },
    examples: ['switchyard policies check policies/privacy-first.yaml --config policies/gateway.example.yaml'],
    load: () => import('./policies-command.js').then((m) => ({ run: m.runCheck })),
  },
  {
    path: ['policies', 'explain'],
    summary: 'print the routing decision and its trace for a request, calling no model',
    positionals: [
      { name: 'FILE', required: true, description: 'the policy (YAML)' },
      { name: 'REQUEST.json', required: true, description: 'an OpenAI request body' },
    ],
    flags: {
      config: {
        type: 'string',
        short: 'c',
        value: 'FILE',
        description: 'the gateway config whose upstreams the policy routes to (default $SWITCHYARD_CONFIG, else embedded defaults)',
      },
      tags: { type: 'string', value: 'LIST', description: 'tags as if sent in x-switchyard-tags (comma-separated)' },
    },
    examples: ['switchyard policies explain policies/privacy-first.yaml request.json --config policies/gateway.example.yaml --tags internal'],
    load: () => import('./policies-command.js').then((m) => ({ run: m.runExplain })),
  },
  {
    path: ['policies', 'replay'],
    summary: 'decide recorded traffic again under a candidate policy: routing mix, predicted cost/latency, new zones (exit 1 if any)',
    flags: {
      policy: { type: 'string', short: 'p', value: 'FILE', description: 'the candidate policy (YAML; required)' },
      since: { type: 'string', value: 'DURATION', default: '7d', description: 'records from this window ending now: 30m, 6h, 7d' },
      ...recordsReaderFlags,
    },
    examples: [
      'switchyard policies replay --records records/records-2026-11-25.jsonl --policy new.yaml --config gateway.yaml',
      'switchyard policies replay --since 1d --policy new.yaml --config gateway.yaml --format json',
    ],
    load: () => import('./policies-replay-command.js'),
  },
  {
    path: ['audit'],
    summary: 'did data of a class reach a zone? answered from records; exit 1 when any did',
    flags: {
      class: { type: 'string', value: 'CLASS', description: 'data class (tag), e.g. pii (required)' },
      zone: {
        type: 'string',
        value: 'ZONE',
        description: 'device | on-prem | region:<name> | region:* | cloud (default: any zone the class may not reach)',
      },
      since: { type: 'string', value: 'DURATION', default: '30d', description: 'window ending now: 30m, 6h, 30d' },
      ...recordsReaderFlags,
    },
    examples: ['switchyard audit --class pii --zone cloud --since 30d', 'switchyard audit --class secret --records records/records-2026-11-25.jsonl'],
    load: () => import('./audit-command.js'),
  },
  {
    path: ['report'],
    summary: 'cost, savings, latency and routing tables from request records',
    description: 'Reads records from --redis, else --dir, else the records section of --config / $SWITCHYARD_CONFIG, else ./records.',
    flags: {
      since: { type: 'string', value: 'DURATION', default: '1h', description: 'window ending now: 30m, 6h, 7d (ignored with --from)' },
      from: { type: 'string', value: 'TIME', description: 'window start (ISO 8601, e.g. 2026-11-24T00:00Z)' },
      to: { type: 'string', value: 'TIME', description: 'window end (default now)' },
      config: { type: 'string', short: 'c', value: 'FILE', description: 'gateway config: read its records sink (dir or Redis stream)' },
      dir: { type: 'string', value: 'DIR', description: 'JSONL records directory (default records)' },
      redis: { type: 'string', value: 'URL', description: 'read the Redis stream sink instead, e.g. redis://127.0.0.1:6379' },
      stream: { type: 'string', value: 'KEY', default: 'switchyard:records', description: 'Redis stream key' },
      group: { type: 'string', value: 'LIST', default: 'destination,model,tenant,rule', description: 'tables to build' },
      format: { type: 'string', short: 'f', value: 'FORMAT', default: 'table', description: 'table | json | csv | html' },
      out: { type: 'string', short: 'o', value: 'FILE', description: 'write to a file instead of stdout' },
    },
    examples: [
      'switchyard report --since 1h',
      'switchyard report --from 2026-11-24T00:00Z --to 2026-11-25T00:00Z --format csv',
      'switchyard report --since 7d --redis redis://127.0.0.1:6379 --format html --out report.html',
    ],
    load: () => import('./report-command.js'),
  },
];

/** The command whose words start `argv` (longest match), with the remaining arguments. */
export function findCommand(argv: readonly string[]): { spec: CommandSpec; rest: string[] } | undefined {
  let best: CommandSpec | undefined;
  for (const spec of COMMANDS) {
    if (spec.path.every((w, i) => argv[i] === w) && (!best || spec.path.length > best.path.length)) best = spec;
  }
  return best ? { spec: best, rest: argv.slice(best.path.length) } : undefined;
}

/** Commands under a group word (`edge`, `keys`, `policies`), for `switchyard edge --help`. */
export function commandsUnder(word: string): CommandSpec[] {
  return COMMANDS.filter((s) => s.path.length > 1 && s.path[0] === word);
}
