import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import juice from 'juice';
import { formatCount, fullTitle, HTML_BUDGET_BYTES, LIST_PREVIEW_ROWS, PREVIEW_STEPS, shorten, type PreviewColumn } from '../core/preview.js';
import type { ReportChanges, TrendSeries } from '../core/changes.js';
import { sectionGroups, withPreviewLimits, type Report } from '../core/report.js';

/** What the templates see: the report, and its sections under their group headings. */
type ReportView = Report & { readonly sectionGroups: ReturnType<typeof sectionGroups> };

function view(report: Report): ReportView {
  return { ...report, sectionGroups: sectionGroups(report) };
}

/** templates/ at the package root, from both src/render (tests) and dist/render (built). */
export const TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

const STATUS_COLOURS: Readonly<Record<string, string>> = {
  fail: '#b42318',
  error: '#b54708',
  incomplete: '#6941c6',
  not_run: '#344054',
  pass: '#067647',
  info: '#475467',
};

const PREVIEW_CELL_CHARS = 80;
/** The tallest trend bar, in pixels; a bar of 0 (or no value) is a 1-pixel line. */
const TREND_BAR_PX = 22;
const NO_VALUE_COLOUR = '#d0d5dd';

/**
 * Control characters could forge lines in the text mail or confuse a terminal, and bidirectional
 * overrides could make a value read as something else: show them all as U+FFFD.
 */
export function printable(value: unknown): string {
  return (
    asText(value)
      .replace(/[\r\n]+/g, ' ')
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, '\ufffd')
  );
}

/** A template value as text: the report model holds strings, numbers and nulls; anything else shows as JSON. */
function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

function clip(value: unknown): string {
  const text = printable(value);
  return text.length > PREVIEW_CELL_CHARS ? `${text.slice(0, PREVIEW_CELL_CHARS - 1)}…` : text;
}

/** One preview cell as the templates show it: its text (shortened unless short), and the full value for a `title`. */
interface PreviewCell {
  readonly name: string;
  readonly text: string;
  readonly short: boolean;
  readonly title: string | null;
  /** No whitespace to wrap at (an id, an ARN): kept on one line under a row, where there is room for it. */
  readonly unbroken: boolean;
}

function previewCellsOf(row: unknown, columns: unknown): (PreviewCell & { readonly detail: boolean })[] {
  const plan = columns as readonly PreviewColumn[];
  return (row as readonly unknown[]).map((value, i) => {
    const text = printable(value);
    const column = plan[i] ?? { name: '', kind: 'long', limit: PREVIEW_CELL_CHARS };
    const limit = column.limit ?? PREVIEW_CELL_CHARS;
    const shown = shorten(text, limit);
    return {
      name: column.name,
      text: shown,
      short: column.kind === 'short',
      title: fullTitle(text, limit),
      unbroken: !/\s/.test(shown),
      detail: column.kind === 'detail',
    };
  });
}

const gridColumns = (columns: unknown) => (columns as readonly PreviewColumn[]).filter((c) => c.kind !== 'detail');

/** A column header, wrappable at its underscores only (never inside a word): each part escaped, `_<wbr>` between. */
const HEADER_PARTIAL = '{{#each (words this)}}{{this}}{{#unless @last}}_<wbr>{{/unless}}{{/each}}';

export interface RenderedReport {
  readonly html: string;
  readonly text: string;
}

/** Renders the report model with Handlebars. HTML escaping stays on: every CloudTrail value is escaped. */
export class ReportRenderer {
  readonly #html: Handlebars.TemplateDelegate<ReportView>;
  readonly #text: Handlebars.TemplateDelegate<ReportView>;

  private constructor(html: Handlebars.TemplateDelegate<ReportView>, text: Handlebars.TemplateDelegate<ReportView>) {
    this.#html = html;
    this.#text = text;
  }

  static async load(templatesDir: string = TEMPLATES_DIR): Promise<ReportRenderer> {
    const hbs = Handlebars.create();
    hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    hbs.registerHelper('upper', (s: unknown) => asText(s).toUpperCase());
    hbs.registerHelper('statusColour', (s: unknown) => STATUS_COLOURS[String(s)] ?? '#475467');
    hbs.registerHelper('cell', clip);
    hbs.registerHelper('plain', printable);
    hbs.registerHelper('pad', (s: unknown, width: unknown) => clip(s).padEnd(Number(width)));
    // A preview row: the cells of the grid, then the long values shown under it (see core/preview.ts).
    hbs.registerHelper('previewCells', (row: unknown, columns: unknown) => previewCellsOf(row, columns).filter((c) => !c.detail));
    hbs.registerHelper('previewDetails', (row: unknown, columns: unknown) => previewCellsOf(row, columns).filter((c) => c.detail));
    hbs.registerHelper('allCells', previewCellsOf);
    hbs.registerHelper('gridColumns', gridColumns);
    hbs.registerHelper('gridCount', (columns: unknown) => gridColumns(columns).length);
    hbs.registerHelper('hasDetails', (columns: unknown) => gridColumns(columns).length < (columns as readonly PreviewColumn[]).length);
    hbs.registerHelper('number', (n: unknown) => formatCount(Number(n)));
    // The report's own lists in the HTML: the first LIST_PREVIEW_ROWS, and how many more the text part has.
    hbs.registerHelper('first', (list: unknown): unknown[] => (Array.isArray(list) ? (list as unknown[]).slice(0, LIST_PREVIEW_ROWS) : []));
    hbs.registerHelper('more', (list: unknown) => (Array.isArray(list) ? Math.max(0, list.length - LIST_PREVIEW_ROWS) : 0));
    hbs.registerHelper('sum', (a: unknown, b: unknown) => Number(a) + Number(b));
    hbs.registerHelper('words', (s: unknown) => asText(s).split('_'));
    hbs.registerPartial('header', HEADER_PARTIAL);
    hbs.registerHelper('join', (list: unknown, sep: unknown) => (Array.isArray(list) ? list.join(String(sep)) : ''));
    hbs.registerHelper('gt', (a: unknown, b: unknown) => Number(a) > Number(b));
    hbs.registerHelper('minus', (a: unknown, b: unknown) => Number(a) - Number(b));
    hbs.registerHelper('barHeight', (percent: unknown) => Math.max(1, Math.round((Math.min(100, Math.max(0, Number(percent) || 0)) * TREND_BAR_PX) / 100)));
    // The trend column of the table of checks: shown once there is an earlier run to draw.
    const seriesOf = (changes: unknown, id: unknown): TrendSeries | undefined => (changes as ReportChanges | null | undefined)?.trend.find((s) => s.id === id);
    hbs.registerHelper('trendShown', (changes: unknown) => ((changes as ReportChanges | null | undefined)?.trendShown ?? 0) > 1);
    hbs.registerHelper('trendPoints', (changes: unknown, id: unknown) => seriesOf(changes, id)?.points ?? []);
    hbs.registerHelper('trendText', (changes: unknown, id: unknown) => seriesOf(changes, id)?.text ?? '');
    hbs.registerHelper('barColour', (status: unknown, observed: unknown) =>
      observed === null || observed === undefined ? NO_VALUE_COLOUR : (STATUS_COLOURS[String(status)] ?? '#475467'),
    );
    const read = (name: string) => readFile(path.join(templatesDir, name), 'utf8');
    const [html, text, changesHtml, changesText] = await Promise.all([
      read('report.html.hbs'),
      read('report.txt.hbs'),
      read(path.join('partials', 'changes.html.hbs')),
      read(path.join('partials', 'changes.txt.hbs')),
    ]);
    // Compiled here with their report's options (the text one escapes nothing), then included with {{> name}}.
    hbs.registerPartial('changesHtml', hbs.compile(changesHtml, { strict: true }));
    hbs.registerPartial('changesText', hbs.compile(changesText, { strict: true, noEscape: true }));
    return new ReportRenderer(
      hbs.compile<ReportView>(html, { strict: true }),
      // The text template escapes nothing (there is no markup), but `cell` still strips control characters.
      hbs.compile<ReportView>(text, { strict: true, noEscape: true }),
    );
  }

  /**
   * The HTML and text parts of the report's e-mail. Past HTML_BUDGET_BYTES (a suite of many checks, long values, a
   * large report.preview_rows) the previews shrink step by step (PREVIEW_STEPS), informational checks first, until
   * the HTML fits: Gmail would otherwise clip it and hide the later checks. Both parts show the same rows.
   */
  render(report: Report): RenderedReport {
    let html = '';
    let shown = report;
    for (const limits of PREVIEW_STEPS) {
      shown = withPreviewLimits(report, limits);
      html = this.#inline(shown);
      if (Buffer.byteLength(html) <= HTML_BUDGET_BYTES) break;
    }
    return { html, text: this.#text(view(shown)) };
  }

  #inline(report: Report): string {
    // The classes' stylesheet (`<style data-embed>`) stays in the head, once: inlining it into every cell made the
    // demo's HTML 277 KB. Only the second, small block is inlined (page width, padding, headings, callouts), for
    // clients that drop <style>; short cells keep their `nowrap` attribute there.
    return juice(this.#html(view(report)), { removeStyleTags: true, preserveMediaQueries: true });
  }
}
