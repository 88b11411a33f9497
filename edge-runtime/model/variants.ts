/**
 * The weight files a model folder can hold (transformers.js / Optimum names under onnx/) and the automatic choice.
 * Order of preference: weight-only 4-bit first (fastest on CPU, rows independent of batch neighbours), then full
 * precision, then fp16 (upcast at load: same speed as fp32, less exact), then dynamically quantized files last,
 * because DynamicQuantizeLinear quantizes activations across the batch and a row's output then depends on its
 * neighbours (PLATFORM.md measured differences up to 5.7e-2).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const VARIANT_FILES = {
  q4: 'model_q4.onnx',
  bnb4: 'model_bnb4.onnx',
  q4f16: 'model_q4f16.onnx',
  fp32: 'model.onnx',
  fp16: 'model_fp16.onnx',
  /** transformers.js calls this one q8; this project writes it weight-only, Optimum writes it dynamically quantized. */
  int8: 'model_quantized.onnx',
  qint8: 'model_int8.onnx',
  quint8: 'model_uint8.onnx',
} as const;

export type VariantName = keyof typeof VARIANT_FILES;
export const VARIANT_NAMES = Object.keys(VARIANT_FILES) as VariantName[];
/** The order `variant: auto` tries (VARIANT_FILES is declared in it). */
export const AUTO_ORDER: readonly VariantName[] = VARIANT_NAMES;

export class VariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VariantError';
  }
}

export interface VariantChoice {
  variant: VariantName;
  file: string;
  path: string;
  /** One sentence for the log and `edge inspect`. */
  reason: string;
}

/** The known weight files present under `dir`/onnx, in auto order. */
export function presentVariants(dir: string): Array<{ variant: VariantName; file: string; path: string }> {
  return AUTO_ORDER.map((variant) => ({ variant, file: VARIANT_FILES[variant], path: join(dir, 'onnx', VARIANT_FILES[variant]) })).filter((v) =>
    existsSync(v.path),
  );
}

function listOnnx(dir: string): string[] {
  try {
    return readdirSync(join(dir, 'onnx')).filter((f) => f.endsWith('.onnx'));
  } catch {
    return [];
  }
}

/**
 * Resolves `variant` ('auto', a variant name, or a file name under onnx/) to a file. A missing explicit variant
 * names the files that exist and the flag that selects them.
 */
export function chooseVariant(dir: string, variant: string = 'auto'): VariantChoice {
  const present = presentVariants(dir);
  const files = listOnnx(dir);
  if (variant === 'auto') {
    const first = present[0];
    if (!first) {
      throw new VariantError(
        `${join(dir, 'onnx')}: no model file (looked for ${Object.values(VARIANT_FILES).join(', ')}${files.length ? `; found ${files.join(', ')}` : ''})`,
      );
    }
    const skipped = AUTO_ORDER.slice(0, AUTO_ORDER.indexOf(first.variant)).map((v) => VARIANT_FILES[v]);
    return {
      ...first,
      reason: `variant auto: ${first.file} (${first.variant})${skipped.length ? `, the first present of ${[...skipped, first.file].join(' > ')}` : ', the preferred file'}${
        present.length > 1
          ? `; also present: ${present
              .slice(1)
              .map((p) => p.file)
              .join(', ')}`
          : ''
      }`,
    };
  }
  const byName = (VARIANT_NAMES as string[]).includes(variant) ? (variant as VariantName) : undefined;
  const byFile = VARIANT_NAMES.find((v) => VARIANT_FILES[v] === variant);
  const v = byName ?? byFile;
  if (!v) {
    throw new VariantError(`unknown variant '${variant}': use auto, one of ${VARIANT_NAMES.join(', ')}, or a file name such as model_q4.onnx`);
  }
  const hit = present.find((p) => p.variant === v);
  if (!hit) {
    const options = present.map((p) => `--variant ${p.variant} (${p.file})`).join(', ');
    throw new VariantError(
      `${join(dir, 'onnx', VARIANT_FILES[v])}: missing; this folder has ${files.length ? files.join(', ') : 'no .onnx file'}${options ? `; use ${options} or --variant auto` : ''}`,
    );
  }
  return { ...hit, reason: `variant ${v}: ${hit.file} (requested)` };
}
