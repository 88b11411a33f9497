/**
 * A float64 forward pass straight over a checkpoint's tensors, in Hugging Face's names and layouts ([out, in] linear
 * weights for Llama, Conv1D [in, out] for GPT-2): the yardstick a converted folder is checked against, sharing
 * nothing with the conversion but the safetensors reader and the rope frequencies. Slow and simple on purpose.
 */
import type { ArchSpec } from './hf-config.js';
import type { Checkpoint } from './checkpoint.js';

type Tensors = Map<string, Float32Array>;

export class HfReference {
  private k: number[][][] = [];
  private v: number[][][] = [];

  private constructor(
    private readonly arch: ArchSpec,
    private readonly t: Tensors,
  ) {
    this.reset();
  }

  static async load(ck: Checkpoint, arch: ArchSpec): Promise<HfReference> {
    const t: Tensors = new Map();
    for (const name of ck.names()) t.set(name.replace(/^transformer\./, ''), await ck.read(name));
    return new HfReference(arch, t);
  }

  reset(): void {
    this.k = Array.from({ length: this.arch.shape.layers }, () => []);
    this.v = Array.from({ length: this.arch.shape.layers }, () => []);
  }

  private get(name: string): Float32Array {
    const x = this.t.get(name);
    if (!x) throw new Error(`reference: missing tensor ${name}`);
    return x;
  }

  /** y = W x (+ b) with W [out, in] (nn.Linear). */
  private linear(x: Float64Array, name: string, out: number): Float64Array {
    const w = this.get(`${name}.weight`);
    const b = this.t.get(`${name}.bias`);
    const inp = x.length;
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = b ? b[o]! : 0;
      const row = o * inp;
      for (let i = 0; i < inp; i++) s += w[row + i]! * x[i]!;
      y[o] = s;
    }
    return y;
  }

  /** y = x W + b with W [in, out] (GPT-2's Conv1D). */
  private conv1d(x: Float64Array, name: string, out: number): Float64Array {
    const w = this.get(`${name}.weight`);
    const y = Float64Array.from(this.get(`${name}.bias`));
    for (let i = 0; i < x.length; i++) for (let o = 0; o < out; o++) y[o]! += x[i]! * w[i * out + o]!;
    return y;
  }

  private attend(l: number, q: Float64Array, heads: number, kvHeads: number, hd: number): Float64Array {
    const out = new Float64Array(heads * hd);
    const group = heads / kvHeads;
    for (let h = 0; h < heads; h++) {
      const kh = Math.floor(h / group);
      const scores = this.k[l]!.map((kk) => {
        let d = 0;
        for (let i = 0; i < hd; i++) d += q[h * hd + i]! * kk[kh * hd + i]!;
        return d / Math.sqrt(hd);
      });
      const m = Math.max(...scores);
      const e = scores.map((z) => Math.exp(z - m));
      const sum = e.reduce((a, b) => a + b, 0);
      e.forEach((ev, t) => {
        for (let i = 0; i < hd; i++) out[h * hd + i]! += (ev / sum) * this.v[l]![t]![kh * hd + i]!;
      });
    }
    return out;
  }

  /** Feeds tokens after whatever is cached; returns float64 logits per fed position. */
  forward(tokens: readonly number[]): Float64Array[] {
    return tokens.map((tok) => (this.arch.family === 'llama' ? this.llamaStep(tok) : this.gpt2Step(tok)));
  }

  private llamaStep(tok: number): Float64Array {
    if (this.arch.family !== 'llama') throw new Error('not llama');
    const s = this.arch.shape;
    const { hidden: D, heads: H, kvHeads: KV, headDim: HD } = s;
    const pos = this.k[0]!.length;
    const rms = (x: Float64Array, w: Float32Array) => {
      const ss = x.reduce((a, v) => a + v * v, 0);
      const inv = 1 / Math.sqrt(ss / x.length + s.rmsEps);
      return x.map((v, i) => v * inv * w[i]!);
    };
    const { invFreq, attentionFactor } = this.arch.rope;
    const rope = (x: Float64Array, heads: number) => {
      const half = HD / 2;
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < half; i++) {
          const c = Math.cos(pos * invFreq[i]!) * attentionFactor;
          const sn = Math.sin(pos * invFreq[i]!) * attentionFactor;
          const a = x[h * HD + i]!;
          const b = x[h * HD + half + i]!;
          x[h * HD + i] = a * c - b * sn;
          x[h * HD + half + i] = b * c + a * sn;
        }
      }
    };
    const embed = this.get('model.embed_tokens.weight');
    let x = Float64Array.from(embed.subarray(tok * D, (tok + 1) * D));
    for (let l = 0; l < s.layers; l++) {
      const p = `model.layers.${l}`;
      const h = rms(x, this.get(`${p}.input_layernorm.weight`));
      const q = this.linear(h, `${p}.self_attn.q_proj`, H * HD);
      const k = this.linear(h, `${p}.self_attn.k_proj`, KV * HD);
      const v = this.linear(h, `${p}.self_attn.v_proj`, KV * HD);
      rope(q, H);
      rope(k, KV);
      this.k[l]!.push([...k]);
      this.v[l]!.push([...v]);
      const o = this.linear(this.attend(l, q, H, KV, HD), `${p}.self_attn.o_proj`, D);
      x = x.map((val, i) => val + o[i]!);
      const h2 = rms(x, this.get(`${p}.post_attention_layernorm.weight`));
      const gate = this.linear(h2, `${p}.mlp.gate_proj`, s.intermediate);
      const up = this.linear(h2, `${p}.mlp.up_proj`, s.intermediate);
      const down = this.linear(
        gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!),
        `${p}.mlp.down_proj`,
        D,
      );
      x = x.map((val, i) => val + down[i]!);
    }
    const fin = rms(x, this.get('model.norm.weight'));
    return this.linear(fin, this.t.has('lm_head.weight') ? 'lm_head' : 'model.embed_tokens', s.vocab);
  }

  private gpt2Step(tok: number): Float64Array {
    const s = this.arch.shape;
    const D = s.hidden;
    const H = s.heads;
    const HD = D / H;
    const eps = this.arch.family === 'gpt2' ? this.arch.shape.lnEps : 1e-5;
    const pos = this.k[0]!.length;
    const ln = (x: Float64Array, name: string) => {
      const g = this.get(`${name}.weight`);
      const b = this.get(`${name}.bias`);
      const mean = x.reduce((a, v) => a + v, 0) / x.length;
      const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
      const inv = 1 / Math.sqrt(variance + eps);
      return x.map((v, i) => (v - mean) * inv * g[i]! + b[i]!);
    };
    const wte = this.get('wte.weight');
    const wpe = this.get('wpe.weight');
    let x = Float64Array.from({ length: D }, (_, i) => wte[tok * D + i]! + wpe[pos * D + i]!);
    for (let l = 0; l < s.layers; l++) {
      const p = `h.${l}`;
      const qkv = this.conv1d(ln(x, `${p}.ln_1`), `${p}.attn.c_attn`, 3 * D);
      this.k[l]!.push([...qkv.subarray(D, 2 * D)]);
      this.v[l]!.push([...qkv.subarray(2 * D, 3 * D)]);
      const proj = this.conv1d(this.attend(l, qkv.subarray(0, D), H, H, HD), `${p}.attn.c_proj`, D);
      x = x.map((val, i) => val + proj[i]!);
      const fc = this.conv1d(ln(x, `${p}.ln_2`), `${p}.mlp.c_fc`, 4 * D).map(
        (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
      );
      const mlp = this.conv1d(fc, `${p}.mlp.c_proj`, D);
      x = x.map((val, i) => val + mlp[i]!);
    }
    const fin = ln(x, 'ln_f');
    const logits = new Float64Array(s.vocab);
    for (let n = 0; n < s.vocab; n++) {
      let acc = 0;
      for (let i = 0; i < D; i++) acc += fin[i]! * wte[n * D + i]!;
      logits[n] = acc;
    }
    return logits;
  }
}
