/**
 * The demo run's output, pinned: every evidence file, the manifest and the e-mail of the job `npm start` runs,
 * compared with the snapshots in test/golden/demo/ after taking out what differs on every run (run id, the
 * moment it ran, the temporary folders). A refactoring must leave them byte-identical; a change that means to
 * alter the output updates them with `npx vitest run test/integration/demo-golden.test.ts -u`, and the diff of
 * test/golden/ shows a reviewer exactly what a user will see change.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatCount } from '../../src/core/preview.js';
import { reportFromJson } from '../../src/core/report.js';
import { DEMO_AS_OF, generateDemo } from '../../src/demo/generate.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/fixtures.js';

const GOLDEN = path.resolve('test/golden/demo');
const RUN_ID = /\b(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-[0-9a-f]{8}\b/;

interface Run {
  readonly dir: string;
  readonly out: string;
  readonly runId: string;
  /** Everything that varies from run to run, longest first, with what stands for it in the snapshots. */
  readonly variable: readonly (readonly [string, string])[];
}

let run: Run;

function normalise(text: string, variable: Run['variable']): string {
  return variable.reduce((acc, [value, placeholder]) => acc.replaceAll(value, placeholder), text);
}

beforeAll(async () => {
  const logs = await tempDir('trailwarden-golden-logs-');
  const out = await tempDir('trailwarden-golden-out-');
  const demo = await generateDemo({ outDir: logs });
  // As `npm start` runs it: with the demo's IAM inventory.
  const result = await runCli(['run', '--logs', logs, '--inventory', demo.inventoryDir, '--out', out, '--as-of', DEMO_AS_OF]);
  expect(result.code, result.stderr).toBe(0);
  const dayDir = path.join(out, 'archive', '2026', '11', '23');
  const [runId] = await readdir(dayDir);
  const [, y, mo, d, h, mi, s] = RUN_ID.exec(runId!)!;
  run = {
    dir: path.join(dayDir, runId!),
    out,
    runId: runId!,
    variable: [
      [out, '<out>'],
      [logs, '<logs>'],
      [runId!, '<run-id>'],
      // The run's `now` (the run id carries it to the second): "generated" in the report and manifest.
      [`${y}-${mo}-${d}T${h}:${mi}:${s}Z`, '<now>'],
    ],
  };
}, 300_000);

describe('the demo run (what npm start runs), file by file', () => {
  it('writes the same evidence files as the snapshots', async () => {
    const names = (await readdir(run.dir)).sort();
    expect(names).toMatchSnapshot();
    for (const name of names.filter((n) => n !== 'manifest.json')) {
      const text = await readFile(path.join(run.dir, name), 'utf8');
      await expect(normalise(text, run.variable), name).toMatchFileSnapshot(path.join(GOLDEN, name));
    }
  });

  it('writes the same manifest, with the same digests for every file that does not name the run', async () => {
    const manifest = JSON.parse(await readFile(path.join(run.dir, 'manifest.json'), 'utf8')) as { files: { name: string; bytes: number; sha256: string }[] };
    // Files that name the run or its folder differ in size and digest on every run; their content is compared above.
    for (const file of manifest.files) {
      const text = await readFile(path.join(run.dir, file.name), 'utf8');
      if (normalise(text, run.variable) !== text) Object.assign(file, { bytes: '<varies>', sha256: '<varies>' });
      else expect(createHash('sha256').update(text).digest('hex')).toBe(file.sha256);
    }
    await expect(normalise(`${JSON.stringify(manifest, null, 2)}\n`, run.variable)).toMatchFileSnapshot(path.join(GOLDEN, 'manifest.json'));
  });

  it('puts the same e-mail in the outbox: headers, the archived report as both bodies, and every attachment', async () => {
    const raw = await readFile(path.join(run.out, 'outbox', `${run.runId}.eml`));
    const mail = await simpleParser(raw);
    // Message-ID, Date and MIME boundaries are new for every message; the transfer encoding's line breaks
    // follow the length of the temporary folder names, so the decoded parts are compared.
    const headers = [...mail.headers.keys()].filter((key) => !['message-id', 'date', 'content-type'].includes(key)).sort();
    const summary = {
      headers: Object.fromEntries(headers.map((key) => [key, mail.headers.get(key)])),
      attachments: mail.attachments.map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        bytes: a.size,
        sha256: createHash('sha256').update(a.content).digest('hex'),
      })),
    };
    await expect(normalise(`${JSON.stringify(summary, null, 2)}\n`, run.variable)).toMatchFileSnapshot(path.join(GOLDEN, 'mail.json'));
    // The message's two bodies are the archived report.html and report.txt, byte for byte (pinned above).
    expect(mail.html).toBe(await readFile(path.join(run.dir, 'report.html'), 'utf8'));
    expect(mail.text).toBe(await readFile(path.join(run.dir, 'report.txt'), 'utf8'));
  });

  it("keeps the e-mail's HTML part under 100 KB, where Gmail (about 102 KB) would clip it, showing rows of every failing check and saying how many more the CSV has", async () => {
    // Prepare
    const mail = await simpleParser(await readFile(path.join(run.out, 'outbox', `${run.runId}.eml`)));
    const html = typeof mail.html === 'string' ? mail.html : '';
    const text = typeof mail.text === 'string' ? mail.text : '';
    const report = reportFromJson(JSON.parse(await readFile(path.join(run.dir, 'report.json'), 'utf8')));

    // Assess: measured on the real message; the previews shrank to fit (22 checks), never to nothing for a failing check
    expect(Buffer.byteLength(html)).toBeGreaterThan(0);
    expect(Buffer.byteLength(html)).toBeLessThan(100 * 1024);
    const part = (body: string, start: string, next: RegExp) => {
      const from = body.indexOf(start);
      const rest = body.slice(from + start.length);
      const end = rest.search(next);
      return from === -1 ? '' : end === -1 ? rest : rest.slice(0, end);
    };
    for (const section of report.sections.filter((s) => s.rowCount > 0)) {
      const sectionHtml = part(html, `<a name="${section.id}"></a>`, /<a name="/);
      const sectionText = part(text, `${section.id} | severity`, /\n== /);
      const full = `Full result (${formatCount(section.rowCount)} rows)`;
      const showing = new RegExp(`Showing (\\d+) of ${formatCount(section.rowCount)} rows`);
      const shown = sectionHtml.includes(full) ? section.rowCount : Number(showing.exec(sectionHtml)?.[1] ?? -1);
      expect(shown, section.id).toBeGreaterThanOrEqual(section.status === 'fail' ? 1 : 0);
      expect(shown, section.id).toBeLessThanOrEqual(Math.max(section.previewRows.length, section.rowCount === shown ? shown : 0));
      // The text part shows the same rows.
      expect(sectionText, section.id).toContain(
        shown === section.rowCount ? `${formatCount(section.rowCount)} rows` : `Showing ${formatCount(shown)} of ${formatCount(section.rowCount)} rows`,
      );
    }
  });
});
