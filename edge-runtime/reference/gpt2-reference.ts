/** A plain float64 GPT-2 forward pass over weights read back from an fp32 .onnx file (the yardstick for that family). */
import { readInitializers } from '../graph/graph-builder.js';
import type { Gpt2Shape } from '../graph/gpt2-weights.js';

export class Gpt2Reference {
  private readonly w: Map<string, { dims: number[]; data: Float32Array }>;
  private k: number[][][] = [];
  private v: number[][][] = [];

  constructor(
    private readonly s: Gpt2Shape,
    modelBytes: Uint8Array,
  ) {
    this.w = readInitializers(modelBytes);
    this.k = Array.from({ length: s.layers }, () => []);
    this.v = Array.from({ length: s.layers }, () => []);
  }

  private get(name: string): Float32Array {
    const t = this.w.get(name);
    if (!t) throw new Error(`reference: missing initializer ${name}`);
    return t.data;
  }

  private dense(x: Float64Array, name: string, K: number, N: number): Float64Array {
    const w = this.get(`${name}.weight`);
    const out = Float64Array.from(this.get(`${name}.bias`));
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) out[n]! += x[k]! * w[k * N + n]!;
    return out;
  }

  private ln(x: Float64Array, name: string): Float64Array {
    const g = this.get(`${name}.weight`);
    const b = this.get(`${name}.bias`);
    const mean = x.reduce((a, v) => a + v, 0) / x.length;
    const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
    const inv = 1 / Math.sqrt(variance + this.s.lnEps);
    return x.map((v, i) => (v - mean) * inv * g[i]! + b[i]!);
  }

  forward(tokens: readonly number[]): Float64Array[] {
    const { hidden: D, heads: H, vocab: V } = this.s;
    const HD = D / H;
    const wte = this.get('transformer.wte.weight');
    const wpe = this.get('transformer.wpe.weight');
    const out: Float64Array[] = [];
    for (const tok of tokens) {
      const pos = this.k[0]!.length;
      let x = Float64Array.from({ length: D }, (_, i) => wte[tok * D + i]! + wpe[pos * D + i]!);
      for (let l = 0; l < this.s.layers; l++) {
        const p = `transformer.h.${l}`;
        const qkv = this.dense(this.ln(x, `${p}.ln_1`), `${p}.attn.c_attn`, D, 3 * D);
        this.k[l]!.push([...qkv.subarray(D, 2 * D)]);
        this.v[l]!.push([...qkv.subarray(2 * D, 3 * D)]);
        const attn = new Float64Array(D);
        for (let h = 0; h < H; h++) {
          const scores = this.k[l]!.map((kk) => {
            let d = 0;
            for (let i = 0; i < HD; i++) d += qkv[h * HD + i]! * kk[h * HD + i]!;
            return d / Math.sqrt(HD);
          });
          const m = Math.max(...scores);
          const e = scores.map((z) => Math.exp(z - m));
          const sum = e.reduce((a, b) => a + b, 0);
          e.forEach((ev, t) => {
            for (let i = 0; i < HD; i++) attn[h * HD + i]! += (ev / sum) * this.v[l]![t]![h * HD + i]!;
          });
        }
        const proj = this.dense(attn, `${p}.attn.c_proj`, D, D);
        x = x.map((val, i) => val + proj[i]!);
        const fc = this.dense(this.ln(x, `${p}.ln_2`), `${p}.mlp.c_fc`, D, 4 * D).map(
          (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
        );
        const mlp = this.dense(fc, `${p}.mlp.c_proj`, 4 * D, D);
        x = x.map((val, i) => val + mlp[i]!);
      }
      const fin = this.ln(x, 'transformer.ln_f');
      const head = this.get('lm_head.weight');
      const logits = new Float64Array(V);
      for (let k = 0; k < D; k++) for (let n = 0; n < V; n++) logits[n]! += fin[k]! * head[k * V + n]!;
      out.push(logits);
    }
    return out;
  }
}
