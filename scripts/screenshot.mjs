// `npm run screenshot`: runs the demo job (as `npm start` does, into temporary folders) and photographs its
// report.html — the e-mail's HTML part, byte for byte — with headless Chromium at the widths mail clients give:
// docs/report.png (800 px) and docs/report-600.png (600 px). Not part of `npm test`: CI needs no browser.
// Chromium: $CHROMIUM, else the Debian package's /usr/bin/chromium, else `chromium` on the PATH.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHOTS = [
  { file: 'docs/report.png', width: 800, height: 2600 },
  { file: 'docs/report-600.png', width: 600, height: 2600 },
];

function findChromium() {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  const found = candidates.find((file) => existsSync(file));
  if (found) return found;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const chromium = findChromium();
if (!chromium) {
  process.stderr.write(
    'npm run screenshot needs Chromium and found none (tried $CHROMIUM, /usr/bin/chromium, chromium on the PATH).\n' +
      'On Debian or Ubuntu: sudo apt-get install chromium. Then run it again; nothing was written.\n',
  );
  process.exit(1);
}
if (!existsSync(path.join(ROOT, 'dist', 'cli.js'))) {
  process.stderr.write('dist/ is missing: run `npm run build` first (npm run screenshot does).\n');
  process.exit(1);
}

const run = promisify(execFile);
const { DEMO_AS_OF, generateDemo } = await import(path.join(ROOT, 'dist', 'demo', 'generate.js'));
const work = await mkdtemp(path.join(tmpdir(), 'trailwarden-screenshot-'));
try {
  const logs = path.join(work, 'logs');
  const out = path.join(work, 'out');
  const demo = await generateDemo({ outDir: logs });
  await run(
    process.execPath,
    [path.join(ROOT, 'bin', 'trailwarden.js'), 'run', '--logs', logs, '--inventory', demo.inventoryDir, '--out', out, '--as-of', DEMO_AS_OF],
    {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const dayDir = path.join(out, 'archive', '2026', '11', '23');
  const [runId] = await readdir(dayDir);
  const html = await readFile(path.join(dayDir, runId, 'report.html'), 'utf8');
  process.stdout.write(`demo report.html (the e-mail's HTML part): ${Buffer.byteLength(html)} bytes\n`);
  // Show the folders `npm start` uses rather than this run's temporary ones.
  const page = path.join(work, 'report.html');
  await writeFile(page, html.replaceAll(out, 'out').replaceAll(logs, '.demo/logs'));

  for (const shot of SHOTS) {
    const profile = await mkdtemp(path.join(work, 'profile-'));
    await run(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--window-size=${shot.width},${shot.height}`,
        `--screenshot=${path.join(ROOT, shot.file)}`,
        `file://${page}`,
      ],
      { timeout: 120_000 },
    );
    process.stdout.write(`${shot.file}: ${shot.width}x${shot.height}\n`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
