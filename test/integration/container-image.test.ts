/**
 * What the Dockerfile does, without Docker (no engine on CI machines): assemble the runtime tree with the
 * image's own script (production dependencies only, from the lock file, in a fresh folder outside the
 * checkout), then run the image's commands from it with the image's configuration (config/container.yaml,
 * its /data and /app roots moved into a temporary folder). A runtime dependency declared as a dev dependency,
 * or a file the image does not copy, fails here.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures.js';
import { deliver, outboxMails, rootRecord } from '../support/root-alert.js';
import { readStateFile } from '../support/daemon.js';

const exec = promisify(execFile);
const A = '111111111111';

describe('the container image, assembled without Docker', () => {
  let root: string;
  let app: string;
  let config: string;
  const env = () => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? root,
    NODE_ENV: 'production',
    TRAILWARDEN_CONFIG: config,
    TRAILWARDEN_LOG_LEVEL: 'info',
  });
  const cli = (args: string[]) => exec(process.execPath, [path.join(app, 'bin', 'trailwarden.js'), ...args], { cwd: root, env: env() });

  beforeAll(async () => {
    // Prepare: the image's runtime tree, by the image's script. This is the slow part (a real npm install).
    root = await tempDir('trailwarden-image-');
    app = path.join(root, 'app');
    await exec('sh', [path.resolve('scripts/assemble-runtime.sh'), path.resolve('.'), app], { maxBuffer: 64 * 1024 * 1024 });
    // The image's config, with its absolute /app and /data roots moved under the temporary folder.
    const text = await readFile(path.join(app, 'config', 'container.yaml'), 'utf8');
    config = path.join(root, 'config', 'trailwarden.yaml');
    await (await import('node:fs/promises')).mkdir(path.dirname(config), { recursive: true });
    await writeFile(config, text.replaceAll('/data/', `${root}/data/`).replaceAll('/app/', `${app}/`));
    await deliver(path.join(root, 'data', 'logs'), A, [rootRecord(A, '2026-11-23T10:02:00Z')]);
  }, 900_000);

  it('holds production dependencies only', () => {
    for (const dev of ['vitest', 'typescript', 's3rver', 'tsx']) expect(existsSync(path.join(app, 'node_modules', dev)), dev).toBe(false);
    for (const runtime of ['@duckdb/node-api', 'node-cron', 'handlebars', 'pino'])
      expect(existsSync(path.join(app, 'node_modules', runtime)), runtime).toBe(true);
  });

  it('runs the report and the root alert as one-shot jobs with the image configuration', async () => {
    // Act
    const report = await cli(['run', '--job', 'weekly', '--as-of', '2026-11-23T11:00:00Z']);
    const alert = await cli(['run', '--job', 'root-alert', '--as-of', '2026-11-23T10:15:00Z']);
    // Assess
    // 1 incomplete: log_integrity_30d, on a tree without CloudTrail digests (validation off is never a pass).
    expect(report.stdout).toContain('1 failed, 1 incomplete, 3 not run · 111111111111');
    expect(alert.stdout).toContain('1 new root event(s)');
    const subjects = (await outboxMails(path.join(root, 'data', 'outbox'))).map((m) => m.subject);
    expect(subjects).toContain(`[trailwarden] ALERT root activity · ${A}`);
    expect(subjects.some((s) => s?.startsWith('[trailwarden] 1 failed'))).toBe(true);
    expect(await readdir(path.join(root, 'data', 'archive', '2026', '11', '23'))).toHaveLength(1);
    const state = await readStateFile(path.join(root, 'data', 'state', 'state.json'));
    expect(Object.keys(state.jobs).sort()).toEqual(['root-alert', 'weekly']);
  });

  it("runs the image's CMD (daemon): its HEALTHCHECK script passes, and SIGTERM stops it with status 0", async () => {
    // Prepare: a free port instead of the image's 8080.
    await writeFile(config, (await readFile(config, 'utf8')).replace('port: 8080', 'port: 0'));
    const daemon = spawn(process.execPath, [path.join(app, 'bin', 'trailwarden.js'), 'daemon'], { cwd: root, env: env() });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      daemon.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const match = /"url":"([^"]+)"/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      daemon.once('close', () => reject(new Error(`the daemon exited: ${stderr}`)));
    });
    const closed = new Promise<number | null>((resolve) => daemon.on('close', resolve));
    // Act
    const healthcheck = await exec(process.execPath, [path.join(app, 'scripts', 'healthcheck.mjs')], { env: { ...env(), TRAILWARDEN_HEALTH_URL: url } }).then(
      () => 0,
      (e: { code?: number }) => e.code ?? 1,
    );
    daemon.kill('SIGTERM');
    // Assess
    expect(healthcheck).toBe(0);
    expect(await closed).toBe(0);
  });
});
