import { describe, expect, it } from 'vitest';
import { buildReportMail } from '../../src/mail/report-mail.js';
import { ReportRenderer } from '../../src/render/report.js';
import { sampleReport } from '../support/mail-report.js';

const PRESIGNED = 'https://evidence.s3.amazonaws.com/run/root_activity_7d.csv?X-Amz-Signature=abc&X-Amz-Expires=604800';

function bytes(content: string | Uint8Array): number {
  return Buffer.byteLength(content);
}

describe('the report e-mail: CSVs attached or linked', () => {
  it('attaches every CSV while their total is at the limit, and links them all one byte above it', async () => {
    // Prepare
    const renderer = await ReportRenderer.load();
    const { report, csvs } = sampleReport('run-limit');
    const total = csvs.reduce((sum, csv) => sum + bytes(csv.content), 0);
    const link = async (name: string) => `https://evidence.example/${name}?sig=1&x=2`;
    const input = { report, renderer, from: 'tw@example.com', to: ['sec@example.com'], csvs, link };

    // Act
    const atLimit = await buildReportMail({ ...input, attachMaxBytes: total });
    const overLimit = await buildReportMail({ ...input, attachMaxBytes: total - 1 });

    // Assess: at the limit, attached with the archived HTML unchanged; above it, nothing attached, a link per CSV
    expect(atLimit.evidence).toBe('attached');
    expect(atLimit.message.attachments?.map((a) => [a.filename, a.content])).toEqual(csvs.map((c) => [c.name, c.content]));
    expect(atLimit.message.html).toBe(renderer.render(report).html);
    expect(atLimit.message.withoutAttachments?.attachments).toBeUndefined();

    expect(overLimit.evidence).toBe('linked');
    expect(overLimit.message.attachments).toBeUndefined();
    for (const csv of csvs) {
      expect(overLimit.message.html).toContain(`href="https://evidence.example/${csv.name}?sig&#x3D;1&amp;x&#x3D;2"`);
      expect(overLimit.message.text).toContain(`Download: https://evidence.example/${csv.name}?sig=1&x=2`);
    }
    // The linked version is also the attached one's fallback for a transport's size limit.
    expect(atLimit.message.withoutAttachments?.html).toBe(overLimit.message.html);
  });

  it('never attaches with attach_max_bytes 0, and shows the location as text where the archive has no links', async () => {
    // Prepare
    const renderer = await ReportRenderer.load();
    const { report, csvs } = sampleReport('run-local');

    // Act
    const mail = await buildReportMail({
      report,
      renderer,
      from: 'tw@example.com',
      to: ['sec@example.com'],
      csvs,
      attachMaxBytes: 0,
      link: async () => undefined,
    });

    // Assess
    expect(mail.evidence).toBe('linked');
    expect(mail.message.attachments).toBeUndefined();
    expect(mail.message.html).not.toContain('download the CSV');
    expect(mail.message.html).toContain('/archive/run-local/root_activity_7d.csv');
    expect(mail.message.text).toContain('Full result (3 rows): /archive/run-local/root_activity_7d.csv');
    expect(mail.message.text).not.toContain('Download:');
  });

  it('puts only http(s) links into an href, escaped, and marks a re-send', async () => {
    // Prepare: one presigned URL, one hostile "link"
    const renderer = await ReportRenderer.load();
    const { report, csvs } = sampleReport('run-links');
    const links: Record<string, string> = { 'root_activity_7d.csv': PRESIGNED, 'roles_active_7d.csv': 'javascript:alert(1)' };

    // Act
    const mail = await buildReportMail({
      report,
      renderer,
      from: 'tw@example.com',
      to: ['sec@example.com'],
      csvs,
      attachMaxBytes: 0,
      link: async (name) => links[name],
      resent: true,
    });

    // Assess
    expect(mail.message.html).toContain(
      'href="https://evidence.s3.amazonaws.com/run/root_activity_7d.csv?X-Amz-Signature&#x3D;abc&amp;X-Amz-Expires&#x3D;604800"',
    );
    expect(mail.message.html).not.toContain('javascript:');
    expect(mail.message.text).toContain(`Download: ${PRESIGNED}`);
    expect(mail.message.text).not.toContain('javascript:');
    expect(mail.message.headers).toEqual({ 'X-Trailwarden-Run-Id': 'run-links', 'X-Trailwarden-Verdict': 'fail', 'X-Trailwarden-Resent': 'true' });
  });
});
