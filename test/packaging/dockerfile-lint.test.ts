/**
 * Lints the Dockerfile (hadolint is not installable here): parsed by dockerfile-ast, checked against the rules the
 * image must keep. Each rule names the line it found wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { execForm, flags, positional, readStages, repoRoot } from './dockerfile-stages.js';

interface DockerIgnore {
  add(patterns: string): DockerIgnore;
  ignores(path: string): boolean;
}
// CommonJS (`module.exports = factory`) whose typings declare a default export: load it as CommonJS.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as () => DockerIgnore;

const stages = readStages();
const runtime = stages[stages.length - 1]!;
const line = (i: { getRange(): { start: { line: number } } }) => `Dockerfile:${i.getRange().start.line + 1}`;

describe('Dockerfile lint', () => {
  it('is multi-stage, and the runtime stage takes its build output from an earlier stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const names = new Set(stages.slice(0, -1).map((s) => s.name));
    const fromBuild = runtime.instructions.filter((i) => i.getKeyword() === 'COPY' && flags(i).has('from'));
    expect(fromBuild.length).toBeGreaterThan(0);
    for (const c of fromBuild) expect(names.has(flags(c).get('from')), `${line(c)}: --from names an earlier stage`).toBe(true);
  });

  it('pins every base image to an exact version (or a digest), never latest', () => {
    const names = new Set(stages.map((s) => s.name));
    for (const s of stages) {
      if (s.image.name && names.has(s.image.name)) continue; // FROM an earlier stage
      const pinned = s.image.digest !== null || /^\d+\.\d+\.\d+(-[a-z0-9.-]+)?$/.test(s.image.tag ?? '');
      expect(pinned, `Dockerfile:${s.line}: ${s.image.name}:${s.image.tag ?? '(no tag)'} is not pinned`).toBe(true);
    }
  });

  it('runs as a non-root user in the runtime stage', () => {
    const users = runtime.instructions.filter((i) => i.getKeyword() === 'USER');
    const last = users[users.length - 1];
    expect(last, 'the runtime stage sets USER').toBeDefined();
    const user = positional(last!)[0]!.split(':')[0]!;
    expect(['root', '0'], `${line(last!)}: USER ${user}`).not.toContain(user);
    // No instruction after USER switches back to root by running as it.
    const after = runtime.instructions.slice(runtime.instructions.indexOf(last!) + 1);
    expect(after.some((i) => i.getKeyword() === 'USER')).toBe(false);
  });

  it('has a HEALTHCHECK on /readyz in exec form', () => {
    const hc = runtime.instructions.filter((i) => i.getKeyword() === 'HEALTHCHECK');
    expect(hc).toHaveLength(1);
    const content = hc[0]!.getArgumentsContent() ?? '';
    const cmd = content.slice(content.indexOf('CMD') + 3).trim();
    expect(cmd.startsWith('['), `${line(hc[0]!)}: exec form`).toBe(true);
    expect(JSON.parse(cmd).join(' ')).toContain('/readyz');
    expect(flags(hc[0]!).get('timeout')).toBeDefined();
  });

  it('uses no ADD (and so never ADD of a URL); CMD and ENTRYPOINT are in exec form', () => {
    for (const s of stages) {
      for (const i of s.instructions) {
        expect(i.getKeyword(), `${line(i)}: use COPY`).not.toBe('ADD');
        if (i.getKeyword() === 'CMD' || i.getKeyword() === 'ENTRYPOINT') expect(execForm(i), `${line(i)}: exec form`).toBeDefined();
      }
    }
  });

  it('the runtime stage installs only the compiled build: no sources, no npm install, no compiler', () => {
    for (const i of runtime.instructions) {
      if (i.getKeyword() === 'RUN') expect(i.getArgumentsContent(), `${line(i)}`).not.toMatch(/npm (ci|i|install)\b|tsc|npm run build/);
      if (i.getKeyword() === 'COPY') {
        for (const src of positional(i).slice(0, -1))
          expect(src, `${line(i)}: copies sources into the runtime`).not.toMatch(/^(gateway|edge-runtime|scripts|test)\b|\.ts$/);
      }
    }
    const prune = stages
      .slice(0, -1)
      .flatMap((s) => s.instructions)
      .filter((i) => i.getKeyword() === 'RUN' && /npm prune --omit=dev/.test(i.getArgumentsContent() ?? ''));
    expect(prune.length, 'dev dependencies are pruned before node_modules is copied').toBe(1);
  });

  it('copies only files that exist and that .dockerignore lets into the context', () => {
    const ig = dockerignore().add(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));
    for (const s of stages) {
      for (const i of s.instructions) {
        if (i.getKeyword() !== 'COPY' || flags(i).has('from')) continue;
        for (const src of positional(i).slice(0, -1)) {
          expect(existsSync(join(repoRoot, src)), `${line(i)}: ${src} exists`).toBe(true);
          expect(ig.ignores(src.replace(/\/$/, '')), `${line(i)}: ${src} is excluded by .dockerignore`).toBe(false);
        }
      }
    }
    // What must never be in the context: local installs, builds, secrets, the git history.
    for (const p of ['node_modules', 'dist', '.git', '.dev.vars']) expect(ig.ignores(p), p).toBe(true);
  });
});
