/** config.json -> shapes and rope frequencies, checked against properties of transformers' rope init functions. */
import { describe, expect, it } from 'vitest';
import { archFromConfig, ropeSpec } from './hf-config.js';

const base = {
  model_type: 'llama',
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  vocab_size: 128256,
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-5,
  rope_theta: 500000,
};

describe('rope scaling', () => {
  const m = { headDim: 64, ropeTheta: 500000, maxPositionEmbeddings: 131072 };
  const plain = ropeSpec(null, m, 'config.json').invFreq;

  it('llama3 keeps high frequencies, divides low ones by the factor and blends in between (Llama 3.2 1B config)', () => {
    const s = { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    const f = ropeSpec(s, m, 'config.json').invFreq;
    const wavelen = (x: number) => (2 * Math.PI) / x;
    let blended = 0;
    plain.forEach((p, i) => {
      if (wavelen(p) < 8192 / 4) expect(f[i]).toBe(p);
      else if (wavelen(p) > 8192) expect(f[i]).toBeCloseTo(p / 32, 15);
      else {
        blended++;
        expect(f[i]!).toBeLessThan(p);
        expect(f[i]!).toBeGreaterThan(p / 32);
      }
    });
    expect(blended).toBeGreaterThan(0);
  });

  it('linear divides every frequency by the factor', () => {
    const f = ropeSpec({ type: 'linear', factor: 4 }, m, 'config.json').invFreq;
    f.forEach((x, i) => expect(x).toBeCloseTo(plain[i]! / 4, 15));
  });

  it('yarn scales attention by 0.1 ln(factor) + 1 and interpolates only the low frequencies (Qwen2.5 long-context config)', () => {
    const q = { headDim: 128, ropeTheta: 1000000, maxPositionEmbeddings: 32768 };
    const r = ropeSpec({ type: 'yarn', factor: 4, original_max_position_embeddings: 32768 }, q, 'config.json');
    expect(r.attentionFactor).toBeCloseTo(0.1 * Math.log(4) + 1, 12);
    const p = ropeSpec(null, q, 'config.json').invFreq;
    expect(r.invFreq[0]).toBe(p[0]);
    expect(r.invFreq[63]).toBeCloseTo(p[63]! / 4, 15);
  });

  it('an unknown rope type is refused, naming the field', () => {
    expect(() => archFromConfig({ ...base, rope_scaling: { rope_type: 'longrope', factor: 2 } }, '/m/config.json')).toThrow(
      "/m/config.json: field 'rope_scaling.rope_type': 'longrope' is not supported (supported: default, linear, dynamic, llama3, yarn)",
    );
  });
});

describe('config mapping', () => {
  it('maps a Llama config (GQA, head_dim from hidden / heads)', () => {
    const a = archFromConfig(base, 'config.json');
    expect(a.family).toBe('llama');
    expect(a.shape).toMatchObject({ hidden: 2048, layers: 16, heads: 32, kvHeads: 8, headDim: 64, vocab: 128256, maxPositions: 131072 });
  });

  it('caps Mistral-style sliding windows, but not Qwen2 configs that switch them off', () => {
    const mistral = archFromConfig({ ...base, model_type: 'mistral', sliding_window: 4096, head_dim: null }, 'config.json');
    expect(mistral.shape.maxPositions).toBe(4096);
    const qwen = archFromConfig({ ...base, model_type: 'qwen2', sliding_window: 4096, use_sliding_window: false }, 'config.json');
    expect(qwen.shape.maxPositions).toBe(131072);
    expect(archFromConfig(base, 'config.json', { maxContext: 2048 }).shape.maxPositions).toBe(2048);
  });

  it('refuses what would change the math, naming the field', () => {
    expect(() => archFromConfig({ ...base, hidden_act: 'gelu' }, 'c.json')).toThrow(
      "c.json: field 'hidden_act': 'gelu' is not supported (only silu)",
    );
    expect(() => archFromConfig({ ...base, num_key_value_heads: 5 }, 'c.json')).toThrow("c.json: field 'num_key_value_heads'");
    expect(() => archFromConfig({ ...base, hidden_size: 'x' }, 'c.json')).toThrow("c.json: field 'hidden_size'");
    expect(() =>
      archFromConfig(
        { model_type: 'gpt2', n_embd: 64, n_layer: 1, n_head: 4, n_positions: 64, vocab_size: 10, activation_function: 'relu' },
        'c.json',
      ),
    ).toThrow("c.json: field 'activation_function'");
  });
});
