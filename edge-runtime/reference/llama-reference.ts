/**
 * A plain float64 Llama forward pass over weights read back from an fp32 .onnx file: the yardstick the ONNX graphs
 * and the engine are checked against. Slow and simple on purpose.
 */
import { readInitializers } from '../graph/graph-builder.js';
import type { LlamaShape } from '../graph/llama-weights.js';

type W = Map<string, { dims: number[]; data: Float32Array }>;

export class LlamaReference {
  private readonly w: W;
  /** Per layer K and V caches: [position][kvHead*headDim]. */
  private k: number[][][] = [];
  private v: number[][][] = [];

  constructor(
    private readonly s: LlamaShape,
    modelBytes: Uint8Array,
  ) {
    this.w = readInitializers(modelBytes);
    this.reset();
  }

  reset(): void {
    this.k = Array.from({ length: this.s.layers }, () => []);
    this.v = Array.from({ length: this.s.layers }, () => []);
  }

  private get(name: string): Float32Array {
    const t = this.w.get(name);
    if (!t) throw new Error(`reference: missing initializer ${name}`);
    return t.data;
  }

  private matvec(x: Float64Array, w: Float32Array, K: number, N: number): Float64Array {
    const out = new Float64Array(N);
    for (let k = 0; k < K; k++) {
      const xv = x[k]!;
      if (xv === 0) continue;
      const row = k * N;
      for (let n = 0; n < N; n++) out[n]! += xv * w[row + n]!;
    }
    return out;
  }

  private rms(x: Float64Array, w: Float32Array): Float64Array {
    let ss = 0;
    for (const v of x) ss += v * v;
    const inv = 1 / Math.sqrt(ss / x.length + this.s.rmsEps);
    return x.map((v, i) => v * inv * w[i]!);
  }

  private rope(x: Float64Array, heads: number, pos: number): void {
    const hd = this.s.headDim;
    const half = hd / 2;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const inv = 1 / Math.pow(this.s.ropeTheta, (2 * i) / hd);
        const c = Math.cos(pos * inv);
        const sn = Math.sin(pos * inv);
        const a = x[h * hd + i]!;
        const b = x[h * hd + half + i]!;
        x[h * hd + i] = a * c - b * sn;
        x[h * hd + half + i] = b * c + a * sn;
      }
    }
  }

  /** Feeds tokens after whatever is cached; returns logits (float64) for each fed position. */
  forward(tokens: readonly number[]): Float64Array[] {
    const s = this.s;
    const { hidden: D, heads: H, kvHeads: KV, headDim: HD, vocab: V } = s;
    const embed = this.get('model.embed_tokens.weight');
    const out: Float64Array[] = [];
    for (const tok of tokens) {
      const pos = this.k[0]!.length;
      let x = Float64Array.from(embed.subarray(tok * D, tok * D + D));
      for (let l = 0; l < s.layers; l++) {
        const p = `model.layers.${l}`;
        const h = this.rms(x, this.get(`${p}.input_layernorm.weight`));
        const q = this.matvec(h, this.get(`${p}.self_attn.q_proj.weight`), D, H * HD);
        const k = this.matvec(h, this.get(`${p}.self_attn.k_proj.weight`), D, KV * HD);
        const v = this.matvec(h, this.get(`${p}.self_attn.v_proj.weight`), D, KV * HD);
        this.rope(q, H, pos);
        this.rope(k, KV, pos);
        this.k[l]!.push([...k]);
        this.v[l]!.push([...v]);
        const attn = new Float64Array(H * HD);
        const g = H / KV;
        for (let hh = 0; hh < H; hh++) {
          const kvh = Math.floor(hh / g);
          const scores = this.k[l]!.map((kk) => {
            let d = 0;
            for (let i = 0; i < HD; i++) d += q[hh * HD + i]! * kk[kvh * HD + i]!;
            return d / Math.sqrt(HD);
          });
          const m = Math.max(...scores);
          const e = scores.map((z) => Math.exp(z - m));
          const sum = e.reduce((a, b) => a + b, 0);
          for (let t = 0; t < e.length; t++) {
            const pr = e[t]! / sum;
            const vv = this.v[l]![t]!;
            for (let i = 0; i < HD; i++) attn[hh * HD + i]! += pr * vv[kvh * HD + i]!;
          }
        }
        const o = this.matvec(attn, this.get(`${p}.self_attn.o_proj.weight`), H * HD, D);
        x = x.map((val, i) => val + o[i]!);
        const h2 = this.rms(x, this.get(`${p}.post_attention_layernorm.weight`));
        const gate = this.matvec(h2, this.get(`${p}.mlp.gate_proj.weight`), D, s.intermediate);
        const up = this.matvec(h2, this.get(`${p}.mlp.up_proj.weight`), D, s.intermediate);
        const act = gate.map((gv, i) => (gv / (1 + Math.exp(-gv))) * up[i]!);
        const down = this.matvec(act, this.get(`${p}.mlp.down_proj.weight`), s.intermediate, D);
        x = x.map((val, i) => val + down[i]!);
      }
      const fin = this.rms(x, this.get('model.norm.weight'));
      out.push(this.matvec(fin, this.get('lm_head.weight'), D, V));
    }
    return out;
  }
}
