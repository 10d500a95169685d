/**
 * The compliance frameworks checks are tagged with (check.yaml `frameworks: { <framework>: [<control>…] }`): their
 * names, the controls trailwarden knows of each, and which checks cover which control. Pure.
 */
import type { CheckDefinition } from './catalog.js';

/** A framework trailwarden knows the controls of (the part of it that CloudTrail events can answer). */
export interface Framework {
  readonly label: string;
  /** Which part of the framework `controls` lists, e.g. "section 4 (Monitoring)". */
  readonly scope: string;
  /** Control id → title, in the framework's own order. */
  readonly controls: Readonly<Record<string, string>>;
}

export const FRAMEWORKS: Readonly<Record<string, Framework>> = {
  'cis_aws_foundations_v1.4': {
    label: 'CIS AWS Foundations v1.4',
    scope: 'section 4 (Monitoring)',
    controls: {
      '4.1': 'Unauthorized API calls',
      '4.2': 'Management Console sign-in without MFA',
      '4.3': 'Usage of the root account',
      '4.4': 'IAM policy changes',
      '4.5': 'CloudTrail configuration changes',
      '4.6': 'Management Console authentication failures',
      '4.7': 'Disabling or scheduled deletion of customer-created KMS keys',
      '4.8': 'S3 bucket policy changes',
      '4.9': 'AWS Config configuration changes',
      '4.10': 'Security group changes',
      '4.11': 'Network ACL changes',
      '4.12': 'Changes to network gateways',
      '4.13': 'Route table changes',
      '4.14': 'VPC changes',
      '4.15': 'AWS Organizations changes',
    },
  },
  security_hub: {
    label: 'Security Hub',
    scope: 'CloudWatch.1–14 (the CIS monitoring controls)',
    controls: {
      'CloudWatch.1': 'Usage of the root user',
      'CloudWatch.2': 'Unauthorized API calls',
      'CloudWatch.3': 'Management Console sign-in without MFA',
      'CloudWatch.4': 'IAM policy changes',
      'CloudWatch.5': 'CloudTrail configuration changes',
      'CloudWatch.6': 'Management Console authentication failures',
      'CloudWatch.7': 'Disabling or scheduled deletion of customer-managed keys',
      'CloudWatch.8': 'S3 bucket policy changes',
      'CloudWatch.9': 'AWS Config configuration changes',
      'CloudWatch.10': 'Security group changes',
      'CloudWatch.11': 'Network ACL changes',
      'CloudWatch.12': 'Changes to network gateways',
      'CloudWatch.13': 'Route table changes',
      'CloudWatch.14': 'VPC changes',
    },
  },
};

/** The framework's display name: its label when known, else its id. */
export function frameworkLabel(id: string): string {
  return FRAMEWORKS[id]?.label ?? id;
}

/** "CIS AWS Foundations v1.4 — 4.4 IAM policy changes" (without the title for a control trailwarden does not know). */
export function controlHeading(framework: string, control: string): string {
  const title = FRAMEWORKS[framework]?.controls[control];
  return `${frameworkLabel(framework)} — ${control}${title ? ` ${title}` : ''}`;
}

/** Natural order of control ids: 4.2 < 4.10, CloudWatch.2 < CloudWatch.10. */
export function compareControls(a: string, b: string): number {
  const parts = (s: string): string[] => s.match(/\d+|\D+/g) ?? [];
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const [x, y] = [pa[i]!, pb[i]!];
    if (x === y) continue;
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    if (numeric && Number(x) !== Number(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Every framework id a report or listing can name: those trailwarden knows, and those the checks are tagged with. */
export function knownFrameworks(checks: readonly Pick<CheckDefinition, 'frameworks'>[]): string[] {
  return [...new Set([...Object.keys(FRAMEWORKS), ...checks.flatMap((check) => Object.keys(check.frameworks))])].sort();
}

/** What the suite covers of one framework. */
export interface FrameworkCoverage {
  readonly id: string;
  readonly label: string;
  /** What `uncovered` is judged against; null for a framework trailwarden knows no controls of. */
  readonly scope: string | null;
  /** How many controls trailwarden knows of it (0 when none). */
  readonly knownControls: number;
  /** Controls at least one check is tagged with, in natural order, each with its checks (catalogue order). */
  readonly covered: readonly { readonly control: string; readonly title: string | null; readonly checkIds: readonly string[] }[];
  /** Known controls no check is tagged with, in natural order. */
  readonly uncovered: readonly { readonly control: string; readonly title: string }[];
}

/**
 * Which controls of `framework` the checks cover, and which known ones they don't. The caller decides whether the id
 * names a framework at all (`knownFrameworks`).
 */
export function frameworkCoverage(framework: string, checks: readonly Pick<CheckDefinition, 'id' | 'frameworks'>[]): FrameworkCoverage {
  const known = FRAMEWORKS[framework];
  const byControl = new Map<string, string[]>();
  for (const check of checks) {
    for (const control of check.frameworks[framework] ?? []) byControl.set(control, [...(byControl.get(control) ?? []), check.id]);
  }
  return {
    id: framework,
    label: frameworkLabel(framework),
    scope: known?.scope ?? null,
    knownControls: Object.keys(known?.controls ?? {}).length,
    covered: [...byControl.keys()].sort(compareControls).map((control) => ({
      control,
      title: known?.controls[control] ?? null,
      checkIds: byControl.get(control)!,
    })),
    uncovered: Object.entries(known?.controls ?? {})
      .filter(([control]) => !byControl.has(control))
      .sort(([a], [b]) => compareControls(a, b))
      .map(([control, title]) => ({ control, title })),
  };
}
