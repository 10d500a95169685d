import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import { printable, TEMPLATES_DIR } from '../render/report.js';
import type { AlertBatch, RootEvent } from './model.js';

/** One event as the alert shows it. Every string is CloudTrail text; the templates escape it. */
export interface AlertEventView extends RootEvent {
  /** `iam.amazonaws.com CreateAccessKey` */
  readonly event: string;
  readonly sessionLabel: string;
  readonly mfaLabel: string;
  readonly accessLabel: string;
  /** The eventID, or `not logged` (the event is then told apart by its content; see alertKey). */
  readonly eventIdLabel: string;
  readonly assumedRoot: boolean;
}

/** What the alert templates render. */
export interface AlertView {
  readonly account: string;
  readonly count: number;
  readonly assumedRootCount: number;
  readonly rootUserCount: number;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly generatedAt: string;
  readonly jobName: string;
  readonly toolVersion: string;
  readonly events: readonly AlertEventView[];
}

export function alertView(
  batch: AlertBatch,
  context: { windowStart: string; windowEnd: string; generatedAt: string; jobName: string; toolVersion: string },
): AlertView {
  const events = batch.events.map((e) => ({
    ...e,
    event: `${e.eventSource} ${e.eventName}`.trim(),
    assumedRoot: e.session === 'assumed_root',
    sessionLabel: e.session === 'assumed_root' ? 'centralized root access (sts:AssumeRoot session)' : 'root user credentials',
    mfaLabel: e.mfa === 'true' ? 'yes' : e.mfa === 'false' ? 'no' : 'not logged',
    accessLabel: e.access === 'console' ? 'console' : 'API',
    eventIdLabel: e.eventId || 'not logged',
  }));
  const assumedRootCount = events.filter((e) => e.assumedRoot).length;
  return { account: batch.account, count: events.length, assumedRootCount, rootUserCount: events.length - assumedRootCount, ...context, events };
}

/** Renders alert e-mails with Handlebars: HTML escaping on (user agents are attacker-controlled). */
export class AlertRenderer {
  readonly #html: Handlebars.TemplateDelegate<AlertView>;
  readonly #text: Handlebars.TemplateDelegate<AlertView>;

  private constructor(html: Handlebars.TemplateDelegate<AlertView>, text: Handlebars.TemplateDelegate<AlertView>) {
    this.#html = html;
    this.#text = text;
  }

  static async load(templatesDir: string = TEMPLATES_DIR): Promise<AlertRenderer> {
    const hbs = Handlebars.create();
    hbs.registerHelper('plain', printable);
    const read = (name: string) => readFile(path.join(templatesDir, name), 'utf8');
    const [html, text] = await Promise.all([read('alert.html.hbs'), read('alert.txt.hbs')]);
    return new AlertRenderer(hbs.compile<AlertView>(html, { strict: true }), hbs.compile<AlertView>(text, { strict: true, noEscape: true }));
  }

  render(view: AlertView): { html: string; text: string } {
    return { html: this.#html(view), text: this.#text(view) };
  }
}
