import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import juice from 'juice';
import { sectionGroups, type Report } from '../core/report.js';

/** What the templates see: the report, and its sections under their group headings. */
type ReportView = Report & { readonly sectionGroups: ReturnType<typeof sectionGroups> };

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
    hbs.registerHelper('join', (list: unknown, sep: unknown) => (Array.isArray(list) ? list.join(String(sep)) : ''));
    const read = (name: string) => readFile(path.join(templatesDir, name), 'utf8');
    const [html, text] = await Promise.all([read('report.html.hbs'), read('report.txt.hbs')]);
    return new ReportRenderer(
      hbs.compile<ReportView>(html, { strict: true }),
      // The text template escapes nothing (there is no markup), but `cell` still strips control characters.
      hbs.compile<ReportView>(text, { strict: true, noEscape: true }),
    );
  }

  render(report: Report): RenderedReport {
    // Mail clients drop <style> blocks: inline every rule into style attributes.
    const view: ReportView = { ...report, sectionGroups: sectionGroups(report) };
    const html = juice(this.#html(view), { removeStyleTags: true, preserveMediaQueries: false });
    return { html, text: this.#text(view) };
  }
}
