import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CheckDefinition, withDefaults, type Check } from '../../src/core/catalog.js';
import {
  buildChanges,
  buildRowKeys,
  checkDigest,
  diffKeys,
  rowKeysOf,
  suiteDigest,
  type ChangesInput,
  type EarlierRun,
  type History,
} from '../../src/core/changes.js';
import type { Finding, Status } from '../../src/core/evaluate.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function check(id: string, extra: Partial<CheckDefinition> = {}): Check {
  return withDefaults(
    CheckDefinition.parse({
      id,
      title: `Title of ${id}`,
      description: 'd',
      severity: 'high',
      lookback_days: 7,
      columns: ['user_name', 'account', 'calls'],
      key_columns: ['user_name', 'account'],
      evaluation: { kind: 'threshold', metric: 'row_count', fail_above: 1 },
      ...extra,
    }),
    `SELECT 1 FROM cloudtrail_window -- ${id}`,
  );
}

function finding(c: Check, status: Status, rows: (string | null)[][] | undefined): Finding {
  return {
    checkId: c.id,
    title: c.title,
    severity: c.severity,
    status,
    observed: rows ? rows.length : null,
    threshold: null,
    reason: '',
    ...(rows ? { result: { columns: c.columns, rows } } : {}),
  };
}

function earlier(runId: string, asOf: string, checks: { id: string; status: Status; observed: number | null }[], inputComplete = true): EarlierRun {
  return { runId, asOf, location: `/archive/${runId}`, inputComplete, checks };
}

const users = check('users_active');
const root = check('root_activity', { columns: ['event_id', 'event_name'], key_columns: ['event_id'] });

const BEFORE_USERS = [
  ['alice', '111', '3'],
  ['bob', '111', '1'],
  ['carol', '222', '9'],
];
const NOW_USERS = [
  ['alice', '111', '5'], // same key, other count: not a change of rows
  ['dave', '111', '2'],
  ['erin', '222', '1'],
  ['dave', '111', '7'], // a second row of one key counts once
];

function input(history: History, overrides: Partial<ChangesInput> = {}): ChangesInput {
  return {
    runId: 'run-3',
    asOf: '2026-11-23T08:00:00Z',
    checks: [users, root],
    findings: [finding(users, 'fail', NOW_USERS), finding(root, 'error', undefined)],
    inputComplete: true,
    history,
    examples: 5,
    trendRuns: 8,
    ...overrides,
  };
}

describe('row keys and their differences', () => {
  it('keys rows by the key columns, distinct and sorted, NULL first', () => {
    const keys = rowKeysOf(['account', 'user_name'], { columns: ['user_name', 'account', 'calls'], rows: [...NOW_USERS, [null, '111', '1']] });
    expect(keys).toEqual([
      ['111', null],
      ['111', 'alice'],
      ['111', 'dave'],
      ['222', 'erin'],
    ]);
  });

  it('finds new and gone keys between two sorted lists', () => {
    const before = rowKeysOf(['user_name'], { columns: ['user_name'], rows: [['alice'], ['bob'], ['carol']] });
    const now = rowKeysOf(['user_name'], { columns: ['user_name'], rows: [['alice'], ['dave'], ['erin'], ['aaron']] });
    expect(diffKeys(before, now)).toEqual({ added: [['aaron'], ['dave'], ['erin']], removed: [['bob'], ['carol']] });
  });

  it('keeps, per check with a result, its key columns (the whole row without key_columns) and keys', () => {
    const plain = check('plain', { key_columns: undefined });
    const file = buildRowKeys(
      'run-1',
      [users, plain, root],
      [finding(users, 'fail', BEFORE_USERS), finding(plain, 'pass', [['x', '1', '2']]), finding(root, 'error', undefined)],
    );
    expect(file.run_id).toBe('run-1');
    expect(file.checks).toEqual({
      users_active: {
        key_columns: ['user_name', 'account'],
        keys: [
          ['alice', '111'],
          ['bob', '111'],
          ['carol', '222'],
        ],
      },
      plain: { key_columns: ['user_name', 'account', 'calls'], keys: [['x', '1', '2']] },
    });
  });
});

describe('the digests that tell one suite from another', () => {
  it('change with what judges a check (query, threshold, key columns, options), not with its words', () => {
    const base = checkDigest(users, sha256);
    expect(checkDigest({ ...users, title: 'Another title', severity: 'low', remediation: 'x' }, sha256)).toBe(base);
    expect(checkDigest({ ...users, sql: `${users.sql} ` }, sha256)).not.toBe(base);
    expect(checkDigest({ ...users, evaluation: { kind: 'threshold', metric: 'row_count', fail_above: 2 } }, sha256)).not.toBe(base);
    expect(checkDigest({ ...users, key_columns: ['user_name'] }, sha256)).not.toBe(base);
    expect(checkDigest({ ...users, lookback_days: 30 }, sha256)).not.toBe(base);
    expect(checkDigest({ ...users, optionValues: { role_arns: ['a'] } }, sha256)).not.toBe(base);
  });

  it('of a suite depends on its checks, not on their order', () => {
    const a = { id: 'a', digest: '1' };
    const b = { id: 'b', digest: '2' };
    expect(suiteDigest([a, b], sha256)).toBe(suiteDigest([b, a], sha256));
    expect(suiteDigest([a], sha256)).not.toBe(suiteDigest([a, b], sha256));
    expect(suiteDigest([a, b], sha256)).not.toBe(suiteDigest([a, { ...b, digest: '3' }], sha256));
  });
});

describe('what changed since the previous run', () => {
  const previous = earlier('run-2', '2026-11-16T08:00:00Z', [
    { id: 'users_active', status: 'pass', observed: 3 },
    { id: 'root_activity', status: 'pass', observed: 0 },
  ]);
  const rowKeys = buildRowKeys('run-2', [users, root], [finding(users, 'pass', BEFORE_USERS), finding(root, 'pass', [])]);
  const older = earlier('run-1', '2026-11-09T08:00:00Z', [
    { id: 'users_active', status: 'pass', observed: 6 },
    { id: 'root_activity', status: 'fail', observed: 2 },
  ]);

  it('names the run compared with, the status changes, and new and gone rows by key with examples', () => {
    const changes = buildChanges(input({ kind: 'baseline', previous, rowKeys, trend: [previous, older] }, { examples: 1 }));

    expect(changes.outcome).toBe('compared');
    expect(changes.comparedWith).toEqual({ runId: 'run-2', asOf: '2026-11-16T08:00:00Z', location: '/archive/run-2' });
    expect(changes.summary).toBe('Compared with the previous run of this job, run-2 (as of 2026-11-16T08:00:00Z).');
    expect(changes.statusChanges.map((c) => [c.id, c.kind, c.text])).toEqual([
      ['users_active', 'newly_failing', 'newly failing: pass → fail'],
      ['root_activity', 'newly_erroring', 'newly erroring: pass → error'],
    ]);
    // alice stays (another count is not another row); dave and erin are new, bob and carol gone; one example each.
    expect(changes.rowDeltas).toEqual([
      {
        id: 'users_active',
        title: 'Title of users_active',
        keyColumns: ['user_name', 'account'],
        added: 2,
        removed: 2,
        addedExamples: ['dave · 111'],
        removedExamples: ['bob · 111'],
        note: null,
      },
      expect.objectContaining({ id: 'root_activity', added: 0, removed: 0, note: 'no result in this run (error): nothing to compare' }),
    ]);
    expect(changes.notes).toEqual([]);
  });

  it('says "fixed" for a failure that passes now, and lists checks whose rows did not change', () => {
    const failing = earlier('run-2', '2026-11-16T08:00:00Z', [
      { id: 'users_active', status: 'fail', observed: 4 },
      { id: 'root_activity', status: 'pass', observed: 0 },
    ]);
    const keys = buildRowKeys('run-2', [users, root], [finding(users, 'fail', NOW_USERS), finding(root, 'pass', [])]);
    const changes = buildChanges(
      input(
        { kind: 'baseline', previous: failing, rowKeys: keys, trend: [failing] },
        { findings: [finding(users, 'pass', NOW_USERS), finding(root, 'pass', [])] },
      ),
    );
    expect(changes.statusChanges.map((c) => [c.id, c.kind, c.label])).toEqual([['users_active', 'fixed', 'fixed']]);
    expect(changes.rowDeltas).toEqual([]);
    expect(changes.rowsUnchanged).toEqual(['users_active', 'root_activity']);
  });

  it('warns when either run had incomplete input', () => {
    const changes = buildChanges(
      input({ kind: 'baseline', previous: { ...previous, inputComplete: false }, rowKeys, trend: [previous] }, { inputComplete: false }),
    );
    expect(changes.notes).toEqual([
      'The input of run run-2 was incomplete: rows "new" since then may only have been unread then.',
      'The input of this run is incomplete: rows "gone" may only be unread now.',
    ]);
  });

  it('draws each check’s observed value over the runs, oldest first, at most trend_runs with this one', () => {
    const changes = buildChanges(input({ kind: 'baseline', previous, rowKeys, trend: [previous, older] }));
    const usersTrend = changes.trend.find((t) => t.id === 'users_active')!;
    expect(usersTrend.points.map((p) => [p.runId, p.observed, p.percent, p.current])).toEqual([
      ['run-1', 6, 100, false],
      ['run-2', 3, 50, false],
      ['run-3', 4, 67, true],
    ]);
    expect(usersTrend.text).toBe('6 → 3 → 4');
    expect(changes.trend.find((t) => t.id === 'root_activity')!.text).toBe('2 → 0 → –');
    expect(changes.trendShown).toBe(3);

    const two = buildChanges(input({ kind: 'baseline', previous, rowKeys, trend: [previous, older] }, { trendRuns: 2 }));
    expect(two.trend[0]!.text).toBe('3 → 4');
    expect(two.trendShown).toBe(2);
  });

  it('says there is no previous run, and invents no baseline', () => {
    const changes = buildChanges(input({ kind: 'none', trend: [] }));
    expect(changes.outcome).toBe('no_previous_run');
    expect(changes.summary).toBe('No previous run of this job with this configuration in the archive: nothing to compare with.');
    expect(changes.comparedWith).toBeNull();
    expect(changes.statusChanges).toEqual([]);
    expect(changes.rowDeltas).toEqual([]);
    expect(changes.trend[0]!.text).toBe('4');
  });

  it('says when the previous run ran another suite, naming checks added and removed, and compares nothing', () => {
    const other = earlier('run-2', '2026-11-16T08:00:00Z', [
      { id: 'users_active', status: 'pass', observed: 3 },
      { id: 'gone_check', status: 'pass', observed: 0 },
    ]);
    const changes = buildChanges(
      input(
        { kind: 'other_suite', previous: { ...other, checks: other.checks.map((c) => ({ ...c, digest: 'then' })) }, recordedSuite: true, trend: [] },
        {
          checkDigests: { users_active: 'now', root_activity: 'new' },
        },
      ),
    );
    expect(changes.outcome).toBe('other_suite');
    expect(changes.comparedWith).toBeNull();
    expect(changes.previousRunId).toBe('run-2');
    expect(changes.summary).toBe(
      'The previous run of this job, run-2 (as of 2026-11-16T08:00:00Z), ran a different suite of checks (checks added: root_activity; checks removed: gone_check; checks changed: users_active): no baseline, nothing compared.',
    );
    expect(changes.statusChanges).toEqual([]);
    expect(changes.rowDeltas).toEqual([]);
    expect(changes.trendShown).toBe(1);
  });

  it('says when the previous run does not verify against its manifest, and compares nothing', () => {
    const changes = buildChanges(input({ kind: 'unverified', previous, problem: 'row-keys.json no longer matches its SHA-256 in the manifest', trend: [] }));
    expect(changes.outcome).toBe('baseline_unverified');
    expect(changes.comparedWith).toBeNull();
    expect(changes.summary).toContain('does not verify against its manifest (row-keys.json no longer matches its SHA-256 in the manifest)');
    expect(changes.statusChanges).toEqual([]);
  });
});
