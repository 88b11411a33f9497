/**
 * A Hugging Face checkpoint folder's tensors: `model.safetensors`, or shards listed by `model.safetensors.index.json`
 * (weight_map: tensor name -> shard file). Tensors are read one at a time from whichever shard holds them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CheckpointError, SafetensorsFile, type TensorInfo } from './safetensors.js';

const indexSchema = z.looseObject({ weight_map: z.record(z.string(), z.string()) });

export class Checkpoint {
  private constructor(
    readonly dir: string,
    private readonly files: SafetensorsFile[],
    private readonly where: Map<string, SafetensorsFile>,
  ) {}

  static async open(dir: string): Promise<Checkpoint> {
    if (!existsSync(dir)) throw new CheckpointError(`${dir}: checkpoint folder not found`);
    const indexPath = join(dir, 'model.safetensors.index.json');
    const single = join(dir, 'model.safetensors');
    let shardNames: string[];
    let weightMap: Record<string, string> | undefined;
    if (existsSync(indexPath)) {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(indexPath, 'utf8'));
      } catch (err) {
        throw new CheckpointError(`${indexPath}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
      }
      const r = indexSchema.safeParse(raw);
      if (!r.success) throw new CheckpointError(`${indexPath}: field '${r.error.issues[0]!.path.join('.')}': ${r.error.issues[0]!.message}`);
      weightMap = r.data.weight_map;
      shardNames = [...new Set(Object.values(weightMap))];
      for (const s of shardNames) {
        if (!existsSync(join(dir, s))) throw new CheckpointError(`${join(dir, s)}: missing shard (listed in ${indexPath})`);
      }
    } else if (existsSync(single)) {
      shardNames = ['model.safetensors'];
    } else {
      const bin = existsSync(join(dir, 'pytorch_model.bin')) ? ' (pytorch_model.bin is a pickle: re-save the model with safetensors)' : '';
      throw new CheckpointError(`${single}: missing, and no model.safetensors.index.json either${bin}`);
    }
    const files: SafetensorsFile[] = [];
    const where = new Map<string, SafetensorsFile>();
    try {
      for (const s of shardNames) {
        const f = await SafetensorsFile.open(join(dir, s));
        files.push(f);
        for (const name of f.tensors.keys()) where.set(name, f);
      }
    } catch (err) {
      await Promise.all(files.map((f) => f.close()));
      throw err;
    }
    if (weightMap) {
      for (const [name, shard] of Object.entries(weightMap)) {
        const f = where.get(name);
        if (!f) throw new CheckpointError(`${join(dir, shard)}: tensor '${name}' is listed in ${indexPath} but not in the shard`);
      }
    }
    return new Checkpoint(dir, files, where);
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  info(name: string): TensorInfo | undefined {
    return this.where.get(name)?.tensors.get(name);
  }

  /**
   * Checks, without reading data, that a tensor exists with a readable dtype and (when given) the shape the config
   * implies; returns the file holding it.
   */
  check(name: string, expectShape?: number[]): SafetensorsFile {
    const f = this.where.get(name);
    if (!f) throw new CheckpointError(`${this.dir}: no tensor '${name}' in ${this.files.map((x) => x.path.split('/').pop()).join(', ')}`);
    const t = f.check(name);
    if (expectShape && (t.shape.length !== expectShape.length || t.shape.some((d, i) => d !== expectShape[i]))) {
      throw new CheckpointError(`${f.path}: tensor '${name}' has shape [${t.shape.join(', ')}] but config.json implies [${expectShape.join(', ')}]`);
    }
    return f;
  }

  /** Reads a tensor, checking its shape when one is expected (the config decides what a tensor must look like). */
  async read(name: string, expectShape?: number[]): Promise<Float32Array> {
    return this.check(name, expectShape).read(name);
  }

  readSync(name: string, expectShape?: number[]): Float32Array {
    return this.check(name, expectShape).readSync(name);
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}
