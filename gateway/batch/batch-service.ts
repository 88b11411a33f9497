/**
 * The Batch API: files and batches per tenant, and a runner that feeds batch lines through the gateway's own request
 * path (so every line passes the same auth principal, policies, privacy tags, budgets, limits and records as an
 * interactive request) only while the capacity gate allows: lines fill idle edge capacity and yield to interactive
 * traffic. State is persisted after every line, so a restarted gateway resumes a batch without losing or repeating
 * an answered line (a line in flight at a crash had no recorded answer and runs again).
 */
import { errors, GatewayError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { Logger } from '../core/logger.js';
import { parseBatchLines } from './batch-lines.js';
import type { BatchStorage } from './batch-storage.js';
import type { BatchEndpoint, BatchLine, BatchObject, BatchResultLine, BatchState, FileObject, OverflowLineMeta } from './batch-types.js';
import type { BatchOverflow } from './cloud-overflow.js';

export interface LineAnswer {
  status: number;
  body: unknown;
  requestId: string;
}

/** Runs one line through the gateway as `principal` (wired to the app's own fetch). */
export type LineSender = (line: BatchLine, principal: Principal, batchId: string) => Promise<LineAnswer>;

/** How many more batch lines may start now (0: wait). */
export type CapacityGate = (running: number) => number;

const WINDOW_S = 24 * 3600;
const now = () => Math.floor(Date.now() / 1000);
const randomId = (prefix: string) => `${prefix}-${crypto.randomUUID().replace(/-/g, '').slice(0, 24)}`;

export class BatchService {
  private readonly active = new Map<string, Promise<void>>();
  /** The live state of each running batch: cancel() changes it in place, so the runner's next save keeps it. */
  private readonly live = new Map<string, BatchState>();
  private send: LineSender | undefined;
  private closed = false;

  constructor(
    private readonly storage: BatchStorage,
    private readonly gate: CapacityGate,
    private readonly logger: Logger,
    private readonly pollMs = 25,
    /** Lines the edge has no room for go to a cloud upstream's own Batch API (when configured and policy allows). */
    private readonly overflow?: BatchOverflow,
  ) {}

  /** The sender is bound after the app exists (it is the app's own fetch); batches left running are resumed then. */
  async start(send: LineSender): Promise<void> {
    this.send = send;
    for (const s of await this.storage.listBatches()) {
      if (['in_progress', 'finalizing', 'cancelling'].includes(s.batch.status)) this.run(s);
    }
  }

  async createFile(tenant: string, filename: string, purpose: string, content: Uint8Array): Promise<FileObject> {
    if (purpose !== 'batch') throw errors.invalid(`Only purpose 'batch' is supported, not '${purpose}'.`, 'purpose');
    const meta: FileObject = {
      id: randomId('file'),
      object: 'file',
      bytes: content.byteLength,
      created_at: now(),
      filename,
      purpose,
      status: 'processed',
      tenant,
    };
    await this.storage.putFile(meta, content);
    return meta;
  }

  async file(tenant: string, id: string): Promise<FileObject> {
    const f = await this.storage.getFile(id);
    if (!f || f.tenant !== tenant) throw notFound('file', id);
    return f;
  }

  async fileContent(tenant: string, id: string): Promise<Uint8Array> {
    await this.file(tenant, id);
    return (await this.storage.readFile(id)) ?? new Uint8Array();
  }

  async deleteFile(tenant: string, id: string): Promise<void> {
    await this.file(tenant, id);
    await this.storage.deleteFile(id);
  }

  listFiles(tenant: string): Promise<FileObject[]> {
    return this.storage.listFiles(tenant);
  }

  async createBatch(
    principal: Principal,
    input: { input_file_id: string; endpoint: BatchEndpoint; metadata?: Record<string, string> | null },
  ): Promise<BatchObject> {
    const file = await this.file(principal.tenant, input.input_file_id);
    if (file.purpose !== 'batch') throw errors.invalid(`File '${file.id}' was not uploaded with purpose 'batch'.`, 'input_file_id');
    const text = new TextDecoder().decode((await this.storage.readFile(file.id)) ?? new Uint8Array());
    const { lines, problems } = parseBatchLines(text, input.endpoint);
    const t = now();
    const batch: BatchObject = {
      id: randomId('batch'),
      object: 'batch',
      endpoint: input.endpoint,
      errors: problems.length > 0 ? { object: 'list', data: problems.slice(0, 100) } : null,
      input_file_id: file.id,
      completion_window: '24h',
      status: problems.length > 0 ? 'failed' : 'in_progress',
      output_file_id: null,
      error_file_id: null,
      created_at: t,
      in_progress_at: problems.length > 0 ? null : t,
      expires_at: t + WINDOW_S,
      finalizing_at: null,
      completed_at: null,
      failed_at: problems.length > 0 ? t : null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: lines.length, completed: 0, failed: 0 },
      metadata: input.metadata ?? null,
    };
    const state: BatchState = { batch, tenant: principal.tenant, principal };
    await this.storage.putBatch(state);
    if (batch.status === 'in_progress') this.run(state);
    return batch;
  }

  async batch(tenant: string, id: string): Promise<BatchObject> {
    const s = await this.storage.getBatch(id);
    if (!s || s.tenant !== tenant) throw notFound('batch', id);
    return s.batch;
  }

  async listBatches(tenant: string): Promise<BatchObject[]> {
    return (await this.storage.listBatches()).filter((s) => s.tenant === tenant).map((s) => s.batch);
  }

  async cancel(tenant: string, id: string): Promise<BatchObject> {
    const s = this.live.get(id) ?? (await this.storage.getBatch(id));
    if (!s || s.tenant !== tenant) throw notFound('batch', id);
    if (s.batch.status === 'in_progress' || s.batch.status === 'validating') {
      s.batch.status = 'cancelling';
      s.batch.cancelling_at = now();
      await this.storage.putBatch(s);
      if (!this.active.has(id)) this.run(s);
    }
    return s.batch;
  }

  /** Stops starting lines; lines in flight finish and are recorded (a restart resumes the rest). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.active.values());
  }

  private run(state: BatchState): void {
    if (this.active.has(state.batch.id)) return;
    this.live.set(state.batch.id, state);
    const p = this.loop(state)
      .catch((err: unknown) =>
        this.logger.error({ batch: state.batch.id, err: err instanceof Error ? err.message : String(err) }, 'batch runner failed'),
      )
      .finally(() => {
        this.active.delete(state.batch.id);
        this.live.delete(state.batch.id);
      });
    this.active.set(state.batch.id, p);
  }

  private async loop(state: BatchState): Promise<void> {
    const b = state.batch;
    const text = new TextDecoder().decode((await this.storage.readFile(b.input_file_id)) ?? new Uint8Array());
    const { lines } = parseBatchLines(text, b.endpoint);
    b.output_file_id ??= randomId('file');
    b.error_file_id ??= randomId('file');
    await this.storage.putBatch(state);
    const outMeta = this.resultFile(b.output_file_id, `${b.id}_output.jsonl`, state.tenant);
    const errMeta = this.resultFile(b.error_file_id, `${b.id}_error.jsonl`, state.tenant);
    const done = await this.answeredIds(b.output_file_id);
    const failed = await this.answeredIds(b.error_file_id);
    const answered = new Set([...done, ...failed]);
    b.request_counts.completed = done.size;
    b.request_counts.failed = failed.size;
    const remote = new Set((state.overflow ?? []).flatMap((o) => o.lines.map((l) => l.custom_id)));
    const pending = lines.filter((l) => !answered.has(l.custom_id) && !remote.has(l.custom_id));
    let running = 0;
    let writes = Promise.resolve();
    const inflight = new Set<Promise<void>>();
    const write = (result: BatchResultLine) => {
      // Appends are serialised so the files stay line-aligned; state is saved after each answer for resumption.
      writes = writes.then(async () => {
        const ok = result.response !== null && result.response.status_code < 300;
        await this.storage.appendFile(ok ? outMeta : errMeta, `${JSON.stringify(result)}\n`);
        if (ok) b.request_counts.completed++;
        else b.request_counts.failed++;
        await this.storage.putBatch(state);
      });
      return writes;
    };
    const track = (task: Promise<void>) => {
      inflight.add(task);
      void task.finally(() => inflight.delete(task));
    };
    // Cloud batches submitted before a restart are polled again, never resent.
    for (const sent of state.overflow ?? []) track(this.collectOverflow(state, sent, write, pending, lines));
    let busySince: number | undefined;
    const declined = new Set<string>();
    while ((pending.length > 0 || inflight.size > 0) && !this.closed && b.status === 'in_progress') {
      if (pending.length === 0) {
        await new Promise((r) => setTimeout(r, this.pollMs));
        continue;
      }
      if (now() > b.expires_at) {
        b.status = 'expired';
        b.expired_at = now();
        break;
      }
      const free = this.gate(running);
      if (free <= 0 || !this.send) {
        busySince ??= Date.now();
        if (this.overflow && this.send && Date.now() - busySince >= this.overflow.afterMs) {
          busySince = Date.now();
          const sent = await this.sendOverflow(state, pending, declined);
          if (sent) track(this.collectOverflow(state, sent, write, pending, lines));
        }
        await new Promise((r) => setTimeout(r, this.pollMs));
        continue;
      }
      busySince = undefined;
      for (let i = 0; i < free && pending.length > 0; i++) {
        const line = pending.shift() as BatchLine;
        running++;
        const send = this.send;
        track(
          // A slot frees only once its answer is on disk: at a crash at most max_concurrency answered lines are
          // unrecorded (and run again), however slow the disk is.
          this.answer(line, state, send).then(async (result) => {
            try {
              await write(result);
            } finally {
              running--;
            }
          }),
        );
      }
      // Give the answers a turn before asking the gate again (it reads stats refreshed in the background).
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
    await Promise.all(inflight);
    await writes;
    if (this.closed && b.status === 'in_progress') return; // resumed by the next start
    const t = now();
    if (b.status === 'cancelling') {
      b.status = 'cancelled';
      b.cancelled_at = t;
    } else if (b.status === 'in_progress') {
      b.finalizing_at = t;
      b.status = 'completed';
      b.completed_at = t;
    }
    await this.storage.putBatch(state);
    this.logger.info({ batch: b.id, status: b.status, counts: b.request_counts }, 'batch ended');
  }

  /** Picks lines policy lets go to the cloud target and submits them as one cloud batch; persisted before it returns. */
  private async sendOverflow(
    state: BatchState,
    pending: BatchLine[],
    declined: Set<string>,
  ): Promise<{ remoteId: string; lines: OverflowLineMeta[] } | undefined> {
    const o = this.overflow!;
    const chosen: Array<{ line: BatchLine; meta: OverflowLineMeta; original: BatchLine }> = [];
    for (const line of pending) {
      if (chosen.length >= o.maxLines) break;
      if (declined.has(line.custom_id)) continue;
      const p = await o.prepare(line, state.principal);
      if (p) chosen.push({ ...p, original: line });
      else declined.add(line.custom_id); // tagged or not allowed there: stays for the edge
    }
    if (chosen.length === 0) return undefined;
    for (const c of chosen) pending.splice(pending.indexOf(c.original), 1);
    try {
      const remoteId = await o.submit(
        state.batch.endpoint,
        chosen.map((c) => c.line),
      );
      const sent = { remoteId, lines: chosen.map((c) => c.meta) };
      (state.overflow ??= []).push(sent);
      await this.storage.putBatch(state);
      this.logger.info({ batch: state.batch.id, remote: remoteId, lines: chosen.length }, 'batch lines overflowed to the cloud batch API');
      return sent;
    } catch (err) {
      pending.unshift(...chosen.map((c) => c.original));
      this.logger.warn(
        { batch: state.batch.id, err: err instanceof Error ? err.message : String(err) },
        'cloud batch overflow failed; lines stay local',
      );
      return undefined;
    }
  }

  /** Polls a cloud batch to its end and writes its answers; lines it did not answer go back to the local queue. */
  private async collectOverflow(
    state: BatchState,
    sent: { remoteId: string; lines: OverflowLineMeta[] },
    write: (r: BatchResultLine) => Promise<void>,
    pending: BatchLine[],
    all: readonly BatchLine[],
  ): Promise<void> {
    const o = this.overflow;
    if (!o) {
      // Overflow was configured before the restart and is not now: the lines run locally.
      pending.push(...all.filter((l) => sent.lines.some((m) => m.custom_id === l.custom_id)));
      state.overflow = (state.overflow ?? []).filter((x) => x.remoteId !== sent.remoteId);
      await this.storage.putBatch(state);
      return;
    }
    const stop = new AbortController();
    const stopWhenClosed = setInterval(() => this.closed && stop.abort(), 250);
    let results: BatchResultLine[];
    try {
      results = await o.collect(sent.remoteId, stop.signal);
    } catch (err) {
      if (this.closed) return; // still in state.overflow: the next start polls it again
      this.logger.warn({ batch: state.batch.id, remote: sent.remoteId, err: err instanceof Error ? err.message : String(err) }, 'cloud batch failed');
      results = [];
    } finally {
      clearInterval(stopWhenClosed);
    }
    const byId = new Map(results.map((r) => [r.custom_id, r]));
    for (const meta of sent.lines) {
      const r = byId.get(meta.custom_id);
      if (!r) continue;
      o.recorded(meta, r, state.principal);
      await write(r);
    }
    // Unanswered lines run locally; the entry leaves the state once its answers are written.
    const missing = new Set(sent.lines.filter((m) => !byId.has(m.custom_id)).map((m) => m.custom_id));
    pending.push(...all.filter((l) => missing.has(l.custom_id)));
    state.overflow = (state.overflow ?? []).filter((x) => x.remoteId !== sent.remoteId);
    await this.storage.putBatch(state);
  }

  private resultFile(id: string, filename: string, tenant: string): FileObject {
    return { id, object: 'file', bytes: 0, created_at: now(), filename, purpose: 'batch_output', status: 'processed', tenant };
  }

  private async answeredIds(fileId: string): Promise<Set<string>> {
    const bytes = await this.storage.readFile(fileId);
    const ids = new Set<string>();
    if (!bytes) return ids;
    for (const raw of new TextDecoder().decode(bytes).split('\n')) {
      if (!raw.trim()) continue;
      try {
        const id = (JSON.parse(raw) as { custom_id?: unknown }).custom_id;
        if (typeof id === 'string') ids.add(id);
      } catch {
        // a line torn by a crash mid-write: its request runs again
      }
    }
    return ids;
  }

  private async answer(line: BatchLine, state: BatchState, send: LineSender): Promise<BatchResultLine> {
    const id = randomId('batch_req');
    try {
      const r = await send(line, state.principal, state.batch.id);
      const error =
        r.status >= 300
          ? { code: errorCode(r.body) ?? `http_${r.status}`, message: errorMessage(r.body) ?? `The request failed with status ${r.status}.` }
          : null;
      return { id, custom_id: line.custom_id, response: { status_code: r.status, request_id: r.requestId, body: r.body }, error };
    } catch (err) {
      return {
        id,
        custom_id: line.custom_id,
        response: null,
        error: { code: 'internal_error', message: err instanceof Error ? err.message : String(err) },
      };
    }
  }
}

function notFound(kind: 'file' | 'batch', id: string): GatewayError {
  return new GatewayError(`No ${kind} with id '${id}'.`, { status: 404, code: 'not_found', param: kind === 'file' ? 'file_id' : 'batch_id' });
}

const errorField = (body: unknown, k: 'code' | 'message'): string | undefined => {
  const e = (body as { error?: Record<string, unknown> } | null)?.error;
  const v = e?.[k];
  return typeof v === 'string' ? v : undefined;
};
const errorCode = (body: unknown) => errorField(body, 'code');
const errorMessage = (body: unknown) => errorField(body, 'message');
