/**
 * Replays the Dockerfile without Docker (no daemon here, no base images to pull): each stage gets its own root folder
 * standing in for its filesystem; COPY copies from the build context through .dockerignore (or from an earlier
 * stage's root), RUN runs its shell command in the stage's WORKDIR, ENV is kept. Then the runtime stage's
 * ENTRYPOINT + CMD start the compiled gateway exactly as the image would (only the listen address and port are moved to
 * loopback and a free port), /readyz must answer 200, and the HEALTHCHECK command itself must exit 0.
 * npm runs offline (from the npm cache the project's own install filled): nothing is downloaded.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../gateway/core/sha256.js';
import { freePort } from '../helpers/free-port.js';
import { stopper } from '../helpers/gateway-process.js';
import { waitUntil } from '../helpers/wait.js';
import { execForm, flags, positional, readStages, repoRoot, type Stage } from './dockerfile-stages.js';

interface DockerIgnore {
  add(patterns: string): DockerIgnore;
  ignores(path: string): boolean;
}
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as () => DockerIgnore;
const ignored = dockerignore().add(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));

interface StageResult {
  root: string;
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[] | undefined;
  user: string | undefined;
  log: string[];
}

const work = mkdtempSync(join(tmpdir(), 'switchyard-docker-replay-'));
const inRoot = (root: string, path: string) => join(root, path);

function replayStage(stage: Stage, index: number, done: Map<string, StageResult>): StageResult {
  const r: StageResult = {
    root: join(work, `stage-${index}`),
    workdir: '/',
    env: {},
    entrypoint: [],
    cmd: [],
    healthcheck: undefined,
    user: undefined,
    log: [],
  };
  mkdirSync(r.root, { recursive: true });
  const abs = (p: string) => (p.startsWith('/') ? p : join(r.workdir, p));
  for (const ins of stage.instructions) {
    const kw = ins.getKeyword();
    const where = `Dockerfile:${ins.getRange().start.line + 1}`;
    if (kw === 'WORKDIR') {
      r.workdir = abs(positional(ins)[0]!);
      mkdirSync(inRoot(r.root, r.workdir), { recursive: true });
    } else if (kw === 'ENV') {
      for (const p of (ins as unknown as { getProperties(): Array<{ getName(): string; getValue(): string | null }> }).getProperties())
        r.env[p.getName()] = p.getValue() ?? '';
    } else if (kw === 'COPY') {
      const args = positional(ins);
      const dest = abs(args[args.length - 1]!);
      const from = flags(ins).get('from');
      const srcRoot = from ? done.get(from)?.root : repoRoot;
      if (!srcRoot) throw new Error(`${where}: COPY --from=${from} names no earlier stage`);
      for (const src of args.slice(0, -1)) {
        const srcPath = join(srcRoot, src);
        if (!existsSync(srcPath)) throw new Error(`${where}: COPY source ${src} does not exist`);
        // A directory's contents go into the destination (Docker's rule); a file into the folder or onto the name.
        const to = statSync(srcPath).isDirectory() || !dest.endsWith('/') ? inRoot(r.root, dest) : inRoot(r.root, join(dest, src.split('/').pop()!));
        mkdirSync(statSync(srcPath).isDirectory() ? to : dirname(to), { recursive: true });
        cpSync(srcPath, to, {
          recursive: true,
          verbatimSymlinks: true,
          filter: (p) => from !== undefined || relative(repoRoot, p) === '' || !ignored.ignores(relative(repoRoot, p)),
        });
      }
    } else if (kw === 'RUN') {
      const command = ins.getArgumentsContent() ?? '';
      const t0 = Date.now();
      const res = spawnSync('sh', ['-c', command], {
        cwd: inRoot(r.root, r.workdir),
        env: { ...process.env, ...r.env, npm_config_offline: 'true', npm_config_update_notifier: 'false', CI: 'true' },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      r.log.push(`${where} RUN ${command}: exit ${res.status} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      if (res.status !== 0)
        throw new Error(`${where}: RUN ${command} failed (${res.status}):\n${res.stdout.slice(-2000)}\n${res.stderr.slice(-4000)}`);
    } else if (kw === 'ENTRYPOINT') {
      r.entrypoint = execForm(ins)!;
    } else if (kw === 'CMD') {
      r.cmd = execForm(ins)!;
    } else if (kw === 'HEALTHCHECK') {
      const content = ins.getArgumentsContent() ?? '';
      r.healthcheck = JSON.parse(content.slice(content.indexOf('CMD') + 3).trim()) as string[];
    } else if (kw === 'USER') {
      r.user = positional(ins)[0];
    }
  }
  return r;
}

/** Files under `dir` (relative), skipping node_modules. */
function sourceFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(p, base);
    return [relative(base, p)];
  });
}

describe('Dockerfile replayed without Docker', () => {
  const stopFns: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const stop of stopFns) await stop();
    rmSync(work, { recursive: true, force: true });
  });

  it(
    'builds, prunes, and the runtime stage starts the compiled gateway: /readyz 200 and the HEALTHCHECK passes',
    { timeout: 15 * 60_000 },
    async () => {
      const stages = readStages();
      const done = new Map<string, StageResult>();
      let runtime: StageResult | undefined;
      stages.forEach((stage, i) => {
        runtime = replayStage(stage, i, done);
        if (stage.name) done.set(stage.name, runtime);
        console.log(`[docker-replay] stage ${stage.name ?? i}:\n  ${runtime.log.join('\n  ')}`);
      });
      const rt = runtime!;
      const app = inRoot(rt.root, rt.workdir);

      // Only the compiled build and production dependencies reached the runtime stage.
      expect(existsSync(join(app, 'dist', 'gateway', 'cli', 'main.js'))).toBe(true);
      expect(existsSync(join(app, 'node_modules', 'hono'))).toBe(true);
      expect(existsSync(join(app, 'node_modules', 'typescript')), 'dev dependencies pruned').toBe(false);
      expect(existsSync(join(app, 'node_modules', 'vitest')), 'dev dependencies pruned').toBe(false);
      expect(sourceFiles(app).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
      expect(rt.user).toBe('node');

      // Start it as the image would: ENTRYPOINT + CMD in WORKDIR with the stage's ENV (absolute paths into its root).
      const port = await freePort();
      const argv = [...rt.entrypoint, ...rt.cmd];
      const at = (flag: string) => argv.indexOf(flag) + 1;
      expect(at('--host')).toBeGreaterThan(0);
      expect(at('--port')).toBeGreaterThan(0);
      argv[at('--host')] = '127.0.0.1';
      argv[at('--port')] = String(port);
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(rt.env)) env[k] = v.startsWith('/') && existsSync(inRoot(rt.root, v)) ? inRoot(rt.root, v) : v;
      const adminKey = 'sk-replay-admin';
      const child = spawn(argv[0] === 'node' ? process.execPath : argv[0]!, argv.slice(1), {
        cwd: app,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: tmpdir(),
          ...env,
          SWITCHYARD_ADMIN_KEY_SHA256: await sha256Hex(adminKey),
          SWITCHYARD_LOG_FORMAT: 'json',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output: string[] = [];
      child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
      child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
      stopFns.push(stopper(child));
      const url = `http://127.0.0.1:${port}`;
      await waitUntil(
        async () => {
          if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}):\n${output.join('').slice(-4000)}`);
          return (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200;
        },
        { timeoutMs: 180_000, intervalMs: 200, message: 'runtime stage /readyz' },
      );
      // It ran the compiled build, not the sources through tsx.
      expect(output.join('')).not.toMatch(/running them through tsx/);
      const models = (await (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${adminKey}` } })).json()) as {
        data: Array<{ id: string }>;
      };
      expect(models.data.length).toBeGreaterThan(0);

      // The image's HEALTHCHECK command, pointed at the moved port.
      const hc = rt.healthcheck!.map((a) => a.replaceAll(':8080/', `:${port}/`));
      const hcRun = spawnSync(hc[0] === 'node' ? process.execPath : hc[0]!, hc.slice(1), { cwd: app, encoding: 'utf8', timeout: 10_000 });
      expect(hcRun.status, hcRun.stderr).toBe(0);
    },
  );
});
