/** Batch files and states on local disk: `files/<id>.jsonl` + `.json` metadata, `batches/<id>.json`, written atomically. */
import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchStorage } from '../batch/batch-storage.js';
import type { BatchState, FileObject } from '../batch/batch-types.js';

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class DiskBatchStorage implements BatchStorage {
  private constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<DiskBatchStorage> {
    await mkdir(join(dir, 'files'), { recursive: true, mode: 0o700 });
    await mkdir(join(dir, 'batches'), { recursive: true, mode: 0o700 });
    return new DiskBatchStorage(dir);
  }

  private path(kind: 'files' | 'batches', id: string, ext: string): string {
    // Ids come from URLs: anything but our own id shape could walk out of the directory.
    if (!SAFE_ID.test(id)) throw new Error(`unsafe id '${id}'`);
    return join(this.dir, kind, `${id}${ext}`);
  }

  /** Write-then-rename, so a crash never leaves a half-written state file. */
  private async atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, path);
  }

  async putFile(meta: FileObject, content: Uint8Array): Promise<void> {
    await this.atomicWrite(this.path('files', meta.id, '.jsonl'), content);
    await this.atomicWrite(this.path('files', meta.id, '.json'), JSON.stringify(meta));
  }

  async appendFile(meta: FileObject, text: string): Promise<void> {
    const existing = await this.getFile(meta.id);
    await appendFile(this.path('files', meta.id, '.jsonl'), text, { mode: 0o600 });
    const bytes = (existing?.bytes ?? 0) + new TextEncoder().encode(text).byteLength;
    await this.atomicWrite(this.path('files', meta.id, '.json'), JSON.stringify({ ...(existing ?? meta), bytes }));
  }

  async getFile(id: string): Promise<FileObject | undefined> {
    if (!SAFE_ID.test(id)) return undefined;
    return readJson<FileObject>(this.path('files', id, '.json'));
  }

  async readFile(id: string): Promise<Uint8Array | undefined> {
    if (!SAFE_ID.test(id)) return undefined;
    return readFile(this.path('files', id, '.jsonl')).then(
      (b) => new Uint8Array(b),
      () => undefined,
    );
  }

  async deleteFile(id: string): Promise<boolean> {
    if (!(await this.getFile(id))) return false;
    await rm(this.path('files', id, '.jsonl'), { force: true });
    await rm(this.path('files', id, '.json'), { force: true });
    return true;
  }

  async listFiles(tenant: string): Promise<FileObject[]> {
    const names = (await readdir(join(this.dir, 'files'))).filter((n) => n.endsWith('.json'));
    const metas = await Promise.all(names.map((n) => readJson<FileObject>(join(this.dir, 'files', n))));
    return metas.filter((m): m is FileObject => m !== undefined && m.tenant === tenant);
  }

  async putBatch(state: BatchState): Promise<void> {
    await this.atomicWrite(this.path('batches', state.batch.id, '.json'), JSON.stringify(state));
  }

  async getBatch(id: string): Promise<BatchState | undefined> {
    if (!SAFE_ID.test(id)) return undefined;
    return readJson<BatchState>(this.path('batches', id, '.json'));
  }

  async listBatches(): Promise<BatchState[]> {
    const names = (await readdir(join(this.dir, 'batches'))).filter((n) => n.endsWith('.json'));
    const states = await Promise.all(names.map((n) => readJson<BatchState>(join(this.dir, 'batches', n))));
    return states.filter((s): s is BatchState => s !== undefined);
  }
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
