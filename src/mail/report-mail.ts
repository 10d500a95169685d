import { withEvidenceLinks, type Report } from '../core/report.js';
import type { RenderedReport, ReportRenderer } from '../render/report.js';
import type { MailAttachment, MailMessage } from './types.js';

/** One check's CSV evidence as archived: its file name, its bytes. */
export interface EvidenceCsv {
  readonly checkId: string;
  readonly name: string;
  readonly content: string | Uint8Array;
}

/** What a report e-mail is built from: the archived report model and its evidence. */
export interface ReportMailInput {
  /** The report model as archived (report.json): no links. */
  readonly report: Report;
  readonly renderer: ReportRenderer;
  /** `report` as already rendered for the archive (report.html / report.txt); default: rendered here. */
  readonly rendered?: RenderedReport;
  readonly from: string;
  readonly to: readonly string[];
  /** Every CSV of the run. */
  readonly csvs: readonly EvidenceCsv[];
  /** All CSVs are attached while their total stays at or under this many bytes (mail.attach_max_bytes); 0: never. */
  readonly attachMaxBytes: number;
  /** A link a mail reader can open to an evidence file (presigned URL); undefined where the archive has none. */
  readonly link: (name: string) => Promise<string | undefined>;
  /** A re-send of an earlier run's report, marked as such in a header. */
  readonly resent?: boolean;
}

/** The e-mail of one run, and how its evidence travels. */
export interface ReportMail {
  readonly message: MailMessage;
  /** `attached`: every CSV is attached (with a linked version as the transport's fallback); `linked`: none is. */
  readonly evidence: 'attached' | 'linked';
  readonly csvBytes: number;
}

function byteLength(content: string | Uint8Array): number {
  return typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.byteLength;
}

/**
 * Builds the report e-mail, the same for every transport: all CSVs attached while their total stays within
 * `attachMaxBytes`, otherwise none, and each section links its CSV (or shows its location where the archive
 * has no links). The attached version renders the archived model unchanged, so the mailed HTML equals the
 * archived report.html; links go only into the mail, because they expire.
 */
export async function buildReportMail(input: ReportMailInput): Promise<ReportMail> {
  const { report, renderer } = input;
  const headers: Record<string, string> = { 'X-Trailwarden-Run-Id': report.runId, 'X-Trailwarden-Verdict': report.verdict };
  if (input.resent) headers['X-Trailwarden-Resent'] = 'true';
  const base = { from: input.from, to: input.to, subject: report.subject, headers };

  const links: Record<string, string | undefined> = {};
  for (const csv of input.csvs) links[csv.checkId] = await input.link(csv.name);
  const linkedReport = withEvidenceLinks(report, links);
  const linked: MailMessage = { ...base, ...renderer.render(linkedReport) };

  const csvBytes = input.csvs.reduce((sum, csv) => sum + byteLength(csv.content), 0);
  if (input.csvs.length === 0 || input.attachMaxBytes === 0 || csvBytes > input.attachMaxBytes) {
    return { message: linked, evidence: 'linked', csvBytes };
  }
  const attachments: MailAttachment[] = input.csvs.map((csv) => ({ filename: csv.name, content: csv.content, contentType: 'text/csv; charset=utf-8' }));
  return { message: { ...base, ...(input.rendered ?? renderer.render(report)), attachments, withoutAttachments: linked }, evidence: 'attached', csvBytes };
}
