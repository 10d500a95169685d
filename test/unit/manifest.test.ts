import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Check } from '../../src/core/catalog.js';
import { ManifestError } from '../../src/core/errors.js';
import { evaluate } from '../../src/core/evaluate.js';
import { buildManifest, MANIFEST_SCHEMA, MANIFEST_SCHEMA_V1, parseManifest, serializeManifest, type Manifest } from '../../src/core/manifest.js';
import type { WindowStats } from '../../src/core/model.js';
import { buildReport } from '../../src/core/report.js';
import { rootCheck, windowStats } from '../support/checks.js';

const root: Check = rootCheck({ columns: ['event_time'], references: [], remediation: undefined, sql: 'SELECT 1 FROM cloudtrail_window' });

const asOf = new Date('2026-11-23T08:00:00Z');
const window = { start: new Date('2026-11-16T08:00:00Z'), end: asOf };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const incomplete: WindowStats = windowStats({
  filesRead: 3,
  filesSkipped: [{ path: 'AWSLogs/1/a.json.gz', reason: 'truncated' }],
  events: 10,
  recordsDropped: [{ path: 'AWSLogs/1/b.json.gz', reason: 'not an object', count: 2 }],
  conflicts: [{ eventId: 'evt-1', paths: ['AWSLogs/1/b.json.gz', 'AWSLogs/1/c.json.gz'], records: 2 }],
});

/** The manifest of a one-check run over `stats` in which the root check found nothing. */
function manifestOver(stats: WindowStats): Manifest {
  const findings = [evaluate(root, { columns: ['event_time'], rows: [] }, stats)];
  const report = buildReport({
    runId: 'r1',
    asOf,
    window,
    generatedAt: asOf,
    toolVersion: '0.0.0-test',
    source: 'test',
    checks: [root],
    findings,
    stats,
    evidence: {},
    archiveLocation: '/a',
    previewRows: 10,
  });
  return buildManifest({
    runId: 'r1',
    toolVersion: '0.0.0-test',
    asOf,
    generatedAt: asOf,
    window,
    configDigest: '0'.repeat(64),
    source: 'test',
    engine: 'test',
    report,
    stats,
    checks: [root],
    findings,
    files: [{ name: 'root_activity_7d.csv', bytes: 12, sha256: sha256('event_time\r\n') }],
    sha256,
  });
}

/** The same run as the previous version (v1) recorded it: no incomplete status, no dropped records or conflicts. */
function asV1(manifest: Manifest): unknown {
  const v1 = JSON.parse(serializeManifest(manifest)) as Record<string, unknown> & { stats: Record<string, unknown>; checks: { status: string }[] };
  delete v1.stats.records_dropped;
  delete v1.stats.conflicts;
  delete v1.inventory;
  // Recorded since comparisons between runs exist, within v2.
  delete v1.job;
  delete v1.suite_sha256;
  delete v1.comparison;
  for (const check of v1.checks as unknown as Record<string, unknown>[]) delete check.check_sha256;
  delete v1.previous;
  for (const check of v1.checks) if (check.status === 'incomplete') check.status = 'pass';
  if (v1.verdict === 'incomplete') v1.verdict = 'pass';
  return { ...v1, schema: MANIFEST_SCHEMA_V1 };
}

describe('manifest.json', () => {
  it('records an incomplete check, the verdict, dropped records and conflicts, and reads them back unchanged (v2)', () => {
    // Act
    const manifest = manifestOver(incomplete);
    const back = parseManifest(serializeManifest(manifest), 'manifest.json');

    // Assess
    expect(manifest.schema).toBe('trailwarden.manifest/v2');
    expect(manifest.verdict).toBe('incomplete');
    expect(manifest.checks[0]).toMatchObject({ id: 'root_activity_7d', status: 'incomplete', observed: 0 });
    expect(manifest.stats.records_dropped).toEqual([{ path: 'AWSLogs/1/b.json.gz', reason: 'not an object', count: 2 }]);
    expect(manifest.stats.conflicts).toEqual([{ event_id: 'evt-1', paths: ['AWSLogs/1/b.json.gz', 'AWSLogs/1/c.json.gz'], records: 2 }]);
    expect(back).toEqual(manifest);
  });

  it('still reads a v1 manifest, as v1: no dropped records or conflicts, statuses as recorded', () => {
    const v1 = asV1(manifestOver(incomplete));

    const back = parseManifest(JSON.stringify(v1), 'old/manifest.json');

    expect(back.schema).toBe(MANIFEST_SCHEMA_V1);
    expect(back.verdict).toBe('pass');
    expect(back.checks[0]?.status).toBe('pass');
    expect(back.stats.records_dropped).toEqual([]);
    expect(back.stats.conflicts).toEqual([]);
    expect(back.stats.files_skipped).toHaveLength(1);
  });

  it('refuses a v1 manifest with a status v1 never had, naming the key', () => {
    const v1 = asV1(manifestOver(incomplete)) as { checks: { status: string }[] };
    v1.checks[0]!.status = 'incomplete';

    expect(() => parseManifest(JSON.stringify(v1), 'old/manifest.json')).toThrow(ManifestError);
    expect(() => parseManifest(JSON.stringify(v1), 'old/manifest.json')).toThrow(/checks\.0\.status/);
  });

  it('refuses a schema version it does not know', () => {
    const future = { ...manifestOver(incomplete), schema: 'trailwarden.manifest/v3' };
    expect(() => parseManifest(JSON.stringify(future), 'm.json')).toThrow(
      `m.json: not a valid trailwarden manifest: schema: expected "${MANIFEST_SCHEMA}" (or "${MANIFEST_SCHEMA_V1}"), found "trailwarden.manifest/v3"`,
    );
  });
});
