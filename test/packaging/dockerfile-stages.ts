/** The Dockerfile read through dockerfile-ast and split into stages: what the lint and the replay test both look at. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export const repoRoot = join(import.meta.dirname, '..', '..');

export interface Stage {
  name: string | undefined;
  image: { name: string | null; tag: string | null; digest: string | null };
  instructions: Instruction[];
  /** Line (1-based) of the stage's FROM, for messages. */
  line: number;
}

export function readStages(path = join(repoRoot, 'Dockerfile')): Stage[] {
  const df = DockerfileParser.parse(readFileSync(path, 'utf8'));
  const stages: Stage[] = [];
  for (const ins of df.getInstructions()) {
    if (ins.getKeyword() === 'FROM') {
      const from = df.getFROMs().find((f) => f.getRange().start.line === ins.getRange().start.line)!;
      stages.push({
        name: from.getBuildStage() ?? undefined,
        image: { name: from.getImageName(), tag: from.getImageTag(), digest: from.getImageDigest() },
        instructions: [],
        line: ins.getRange().start.line + 1,
      });
    } else {
      const current = stages[stages.length - 1];
      if (!current) throw new Error(`Dockerfile:${ins.getRange().start.line + 1}: ${ins.getKeyword()} before any FROM`);
      current.instructions.push(ins);
    }
  }
  return stages;
}

/** An instruction's exec-form strings (`["node", "x"]`), or undefined when it is in shell form. */
export function execForm(ins: Instruction): string[] | undefined {
  const raw = ins.getArgumentsContent()?.trim() ?? '';
  if (!raw.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(raw);
  return Array.isArray(parsed) && parsed.every((s) => typeof s === 'string') ? parsed : undefined;
}

/** `--name=value` flags of COPY/ADD/HEALTHCHECK. */
export function flags(ins: Instruction): Map<string, string> {
  const out = new Map<string, string>();
  const withFlags = ins as Instruction & { getFlags?: () => Array<{ getName(): string; getValue(): string | null }> };
  for (const f of withFlags.getFlags?.() ?? []) out.set(f.getName(), f.getValue() ?? '');
  return out;
}

/** Positional arguments (flags removed), e.g. COPY's sources then destination. */
export function positional(ins: Instruction): string[] {
  return ins
    .getArguments()
    .map((a) => a.getValue())
    .filter((v) => !v.startsWith('--'));
}
