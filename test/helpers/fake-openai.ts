/**
 * A real HTTP server on 127.0.0.1 speaking the OpenAI wire format (JSON and SSE), with switches to inject faults.
 * Tests and benches use it as a cloud upstream; it records what reached it so privacy tests can assert on that.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createFakeBatchApi, type FakeBatchApi } from './fake-batch-api.js';

export interface Fault {
  /** Answer with this status and an OpenAI-shaped error body. */
  status?: number;
  /** Retry-After seconds sent with `status`. */
  retryAfter?: number;
  /** Delay before sending headers. */
  firstByteDelayMs?: number;
  /** Delay between stream chunks. */
  chunkDelayMs?: number;
  /** Send the first stream chunk, then wait until release(). */
  holdAfterFirstChunk?: boolean;
  /** Destroy the socket after this many stream chunks. */
  cutAfterChunks?: number;
  /** Never answer (until the client goes away). */
  hang?: boolean;
  /** Destroy the socket at once. */
  closeConnection?: boolean;
  /** Apply to this many requests, then clear (default: all until cleared). */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  receivedAt: number;
}

export interface FakeOpenAIOptions {
  /** Fixed reply text; default `echo: <last user message>`. */
  reply?: string;
  /** Arguments (JSON text) of the tool call the fake makes when a chat request offers tools (or made from the request); default '{}'. */
  toolArguments?: string | ((body: Record<string, unknown>) => string);
  /** Stream chunks per reply (content split into this many pieces). */
  chunks?: number;
  /** Splits streamed text and tool arguments into chunks instead (e.g. at random points); overrides `chunks`. */
  splitter?: (text: string) => string[];
  /** Keep a record of requests (default true; benches turn it off). */
  record?: boolean;
  port?: number;
}

export interface FakeOpenAI {
  url: string;
  port: number;
  requests: RecordedRequest[];
  readonly inFlight: number;
  /** Requests whose client went away before the response ended. */
  readonly aborted: number;
  readonly served: number;
  setFault(f: Fault): void;
  clearFault(): void;
  release(): void;
  reset(): void;
  close(): Promise<void>;
  /** Simulates death: closes the listener and every socket. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  /** Prometheus text served at GET /metrics (as vLLM does); 404 while unset. */
  metricsText: string | undefined;
  /** OpenAI's Batch API (/files, /batches): what it received, and how many polls a batch takes. */
  batch: FakeBatchApi;
}

const MAX_RECORDS = 10_000;

function lastUserText(body: Record<string, unknown>): string {
  const msgs = body['messages'];
  if (Array.isArray(msgs)) {
    const last = msgs[msgs.length - 1] as { role?: string; content?: unknown } | undefined;
    if (last?.role === 'tool') return `tool said ${String(last.content)}`;
    for (let i = msgs.length - 1; i >= 0; i--) {
      const m = msgs[i] as { role?: string; content?: unknown };
      if (m?.role === 'user') return typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
    }
  }
  const p = body['prompt'];
  return typeof p === 'string' ? p : JSON.stringify(p ?? '');
}

/**
 * The tool call the fake answers with when a chat request offers tools and the last message is not a tool result:
 * the named tool (tool_choice), else the first one. After a tool result it answers in text, echoing that result.
 */
function toolCallFor(
  body: Record<string, unknown>,
  args: string,
  id: string,
): { id: string; type: 'function'; function: { name: string; arguments: string } } | undefined {
  const tools = body['tools'];
  if (!Array.isArray(tools) || tools.length === 0 || body['tool_choice'] === 'none') return undefined;
  const msgs = body['messages'];
  const last = Array.isArray(msgs) ? (msgs[msgs.length - 1] as { role?: string } | undefined) : undefined;
  if (last?.role === 'tool') return undefined;
  const choice = body['tool_choice'] as { function?: { name?: string } } | undefined;
  const first = tools[0] as { function?: { name?: string } };
  const name = choice?.function?.name ?? first.function?.name ?? 'tool';
  return { id: `call_${id}`, type: 'function', function: { name, arguments: args } };
}

/** Deterministic token count: words, at least one. */
function countTokens(text: string): number {
  return Math.max(1, text.split(/\s+/).filter(Boolean).length);
}

function split(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

function embeddingOf(input: string, dims = 8): number[] {
  const v: number[] = [];
  let h = 2166136261;
  for (let i = 0; i < dims; i++) {
    for (const ch of input) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    h = Math.imul(h ^ i, 16777619) >>> 0;
    v.push((h % 2000) / 1000 - 1);
  }
  return v;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const record = opts.record ?? true;
  const chunksPerReply = opts.chunks ?? 4;
  let fault: Fault | undefined;
  let faultLeft = Infinity;
  let releasers: Array<() => void> = [];
  let inFlight = 0;
  let aborted = 0;
  let served = 0;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let seq = 0;

  const takeFault = (req: IncomingMessage): Fault | undefined => {
    const header = req.headers['x-fake-fault'];
    if (typeof header === 'string') return JSON.parse(header) as Fault;
    if (!fault) return undefined;
    const f = fault;
    if (--faultLeft <= 0) fault = undefined;
    return f;
  };

  const batchApi = createFakeBatchApi(opts.reply);

  const handle = async (req: IncomingMessage, res: ServerResponse, rawBytes: Buffer): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/^\/v1/, '');
    if (/^\/(files|batches)(\/|$)/.test(path)) {
      if (record) requests.push({ method: req.method ?? '', path, headers: req.headers, body: {}, receivedAt: Date.now() });
      if (await batchApi.handle(req, res, path, rawBytes)) return;
    }
    const raw = rawBytes.toString('utf8');
    let body: Record<string, unknown> = {};
    if (raw) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'bad json', type: 'invalid_request_error', param: null, code: null } }));
        return;
      }
    }
    if (record) {
      requests.push({ method: req.method ?? '', path, headers: req.headers, body, receivedAt: Date.now() });
      if (requests.length > MAX_RECORDS) requests.shift();
    }
    const f = takeFault(req);
    if (f?.closeConnection) {
      req.socket.destroy();
      return;
    }
    if (f?.hang) return; // the close handler counts the abort
    if (f?.firstByteDelayMs) await sleep(f.firstByteDelayMs);
    if (res.destroyed) return;
    if (f?.status) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (f.retryAfter !== undefined) headers['retry-after'] = String(f.retryAfter);
      res.writeHead(f.status, headers);
      res.end(JSON.stringify({ error: { message: `injected fault ${f.status}`, type: 'server_error', param: null, code: 'injected' } }));
      return;
    }
    if (req.method === 'GET' && (req.url ?? '').startsWith('/metrics')) {
      if (api.metricsText === undefined) {
        res.writeHead(404);
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(api.metricsText);
      }
      return;
    }
    if (req.method === 'GET' && path === '/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }] }));
      return;
    }
    const model = String(body['model'] ?? 'fake-model');
    const created = Math.floor(Date.now() / 1000);
    const id = `fake-${++seq}`;
    if (path === '/embeddings') {
      const inputs = Array.isArray(body['input']) ? (body['input'] as unknown[]).map(String) : [String(body['input'])];
      const b64 = body['encoding_format'] === 'base64';
      const data = inputs.map((inp, index) => {
        const vec = embeddingOf(inp);
        return { object: 'embedding', index, embedding: b64 ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec };
      });
      const tokens = inputs.reduce((a, s) => a + countTokens(s), 0);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } }));
      return;
    }
    const chat = path === '/chat/completions';
    if (!chat && path !== '/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${path}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } }));
      return;
    }
    const input = lastUserText(body);
    const text = opts.reply ?? `echo: ${input}`;
    const toolArgs = typeof opts.toolArguments === 'function' ? opts.toolArguments(body) : (opts.toolArguments ?? '{}');
    const call = chat ? toolCallFor(body, toolArgs, id) : undefined;
    if (call) {
      const u = { prompt_tokens: countTokens(input), completion_tokens: 5, total_tokens: countTokens(input) + 5 };
      if (body['stream'] !== true) {
        const message = { role: 'assistant', content: null, refusal: null, tool_calls: [call] };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id,
            object: 'chat.completion',
            created,
            model,
            choices: [{ index: 0, message, logprobs: null, finish_reason: 'tool_calls' }],
            usage: u,
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const base = { id, object: 'chat.completion.chunk', created, model };
      const args = call.function.arguments;
      const half = Math.floor(args.length / 2);
      const argPieces = opts.splitter ? opts.splitter(args) : [args.slice(0, half), args.slice(half)];
      const deltas = [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }],
        },
        ...argPieces.map((a) => ({ tool_calls: [{ index: 0, function: { arguments: a } }] })),
      ];
      for (const delta of deltas)
        res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' }] })}\n\n`);
      const so = body['stream_options'] as { include_usage?: boolean } | undefined;
      if (so?.include_usage) res.write(`data: ${JSON.stringify({ ...base, choices: [], usage: u })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    const usage = { prompt_tokens: countTokens(input), completion_tokens: countTokens(text), total_tokens: countTokens(input) + countTokens(text) };
    if (body['stream'] !== true) {
      const choice = chat
        ? { index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }
        : { index: 0, text, logprobs: null, finish_reason: 'stop' };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, object: chat ? 'chat.completion' : 'text_completion', created, model, choices: [choice], usage }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    const pieces = opts.splitter ? opts.splitter(text) : split(text, chunksPerReply);
    const events: string[] = [];
    const so = body['stream_options'] as { include_usage?: boolean } | undefined;
    // As OpenAI and vLLM do: with include_usage, every chunk before the usage chunk carries `"usage": null`.
    const nullUsage = so?.include_usage ? { usage: null } : {};
    pieces.forEach((p, i) => {
      const choice = chat
        ? { index: 0, delta: i === 0 ? { role: 'assistant', content: p } : { content: p }, logprobs: null, finish_reason: null }
        : { index: 0, text: p, logprobs: null, finish_reason: null };
      events.push(JSON.stringify({ id, object, created, model, choices: [choice], ...nullUsage }));
    });
    events.push(
      JSON.stringify({
        id,
        object,
        created,
        model,
        choices: [
          chat ? { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' } : { index: 0, text: '', logprobs: null, finish_reason: 'stop' },
        ],
        ...nullUsage,
      }),
    );
    if (so?.include_usage) events.push(JSON.stringify({ id, object, created, model, choices: [], usage }));
    for (let i = 0; i < events.length; i++) {
      if (res.destroyed) return;
      if (f?.cutAfterChunks !== undefined && i >= f.cutAfterChunks) {
        res.socket?.destroy();
        return;
      }
      // Wait for the bytes to leave, so a cut after K chunks really delivers K chunks first.
      await new Promise<void>((resolve) => res.write(`data: ${events[i]}\n\n`, () => resolve()));
      if (i === 0 && f?.holdAfterFirstChunk) {
        await new Promise<void>((resolve) => {
          releasers.push(resolve);
          res.once('close', resolve);
        });
      } else if (f?.chunkDelayMs) {
        await sleep(f.chunkDelayMs);
      }
    }
    if (!res.destroyed) res.end('data: [DONE]\n\n');
  };

  const server: Server = createServer((req, res) => {
    inFlight++;
    let finished = false;
    res.on('finish', () => {
      finished = true;
      served++;
    });
    res.on('close', () => {
      inFlight--;
      if (!finished) aborted++;
    });
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      handle(req, res, Buffer.concat(parts)).catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const port = await listen(opts.port ?? 0);
  const shut = () =>
    new Promise<void>((resolve) => {
      for (const r of releasers) r();
      releasers = [];
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  const api: FakeOpenAI = {
    metricsText: undefined,
    batch: batchApi,
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    get inFlight() {
      return inFlight;
    },
    get aborted() {
      return aborted;
    },
    get served() {
      return served;
    },
    setFault(f: Fault) {
      fault = f;
      faultLeft = f.times ?? Infinity;
    },
    clearFault() {
      fault = undefined;
    },
    release() {
      for (const r of releasers) r();
      releasers = [];
    },
    reset() {
      fault = undefined;
      requests.length = 0;
      aborted = 0;
      served = 0;
      for (const r of releasers) r();
      releasers = [];
    },
    close: shut,
    kill: shut,
    async restart() {
      await listen(port);
    },
  };
  return api;
}
