import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateConflictError, StateCorruptError } from '../../src/core/errors.js';
import { StateHandle } from '../../src/state/handle.js';
import { LocalStateStore } from '../../src/state/local.js';
import { S3StateStore } from '../../src/state/s3.js';
import type { DaemonState } from '../../src/state/types.js';
import { tempDir } from '../support/fixtures.js';
import { startS3, type LocalS3 } from '../support/s3.js';
import { readStateFile } from '../support/daemon.js';

function stateWith(summary: string): DaemonState {
  const t = '2026-11-23T07:00:00.000Z';
  return { schema: 'trailwarden.state/v1', jobs: { weekly: { last_run: { scheduled_for: t, started_at: t, finished_at: t, result: 'success', summary } } } };
}

describe('local state store', () => {
  it('reads nothing as an empty state, and reads back what it wrote', async () => {
    const file = path.join(await tempDir(), 'state', 'state.json');
    const store = new LocalStateStore({ path: file });
    const empty = await store.read();
    expect(empty).toEqual({ state: { schema: 'trailwarden.state/v1', jobs: {} }, version: undefined });
    const version = await store.write(stateWith('first'), undefined);
    expect(await store.read()).toEqual({ state: stateWith('first'), version });
    // Written atomically: no temporary or lock file is left beside it.
    expect(await readdir(path.dirname(file))).toEqual(['state.json']);
  });

  it("lets exactly one of many concurrent writers win; the others get StateConflictError and the file is the winner's", async () => {
    // Prepare: eight processes' worth of stores, all having read the same version.
    const file = path.join(await tempDir(), 'state.json');
    const base = await new LocalStateStore({ path: file }).write(stateWith('base'), undefined);
    const writers = Array.from({ length: 8 }, () => new LocalStateStore({ path: file }));
    // Act
    const results = await Promise.allSettled(writers.map((store, i) => store.write(stateWith(`writer ${i}`), base)));
    // Assess
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StateConflictError);
    expect((await new LocalStateStore({ path: file }).read()).state).toEqual(stateWith(`writer ${won[0]}`));
  });

  it('refuses a write based on a version another process has replaced', async () => {
    const file = path.join(await tempDir(), 'state.json');
    const first = await StateHandle.open(new LocalStateStore({ path: file }));
    const second = await StateHandle.open(new LocalStateStore({ path: file }));
    await first.updateJob('weekly', (j) => ({ ...j, alert: { watermark: '2026-11-23T10:00:00Z', alerted: {} } }));
    // One process's own writes never conflict with each other.
    await first.updateJob('root', (j) => ({ ...j, alert: { watermark: '2026-11-23T10:15:00Z', alerted: {} } }));
    await expect(second.updateJob('weekly', (j) => j)).rejects.toMatchObject({ name: 'StateConflictError', code: 'STATE_CONFLICT' });
    expect((await readStateFile(file)).jobs.root?.alert?.watermark).toBe('2026-11-23T10:15:00Z');
  });

  it('after losing a conflict, a long-lived process builds on what the other one stored instead of failing forever', async () => {
    // Prepare: a daemon's handle, and a `run --job` beside it that records the alert's progress.
    const file = path.join(await tempDir(), 'state.json');
    const daemon = await StateHandle.open(new LocalStateStore({ path: file }));
    const oneShot = await StateHandle.open(new LocalStateStore({ path: file }));
    await oneShot.updateJob('root', (j) => ({ ...j, alert: { watermark: '2026-11-23T10:15:00Z', alerted: { e1: '2026-11-23T10:02:00Z' } } }));
    // Act: the daemon's next write loses; the one after it must go through.
    await expect(daemon.updateJob('weekly', (j) => ({ ...j, last_run: stateWith('lost').jobs.weekly!.last_run }))).rejects.toBeInstanceOf(StateConflictError);
    await daemon.updateJob('weekly', (j) => ({ ...j, last_run: stateWith('recorded').jobs.weekly!.last_run }));
    // Assess: both processes' work is in the file, and the daemon sees the alert's progress.
    const stored = await readStateFile(file);
    expect(stored.jobs.weekly?.last_run?.summary).toBe('recorded');
    expect(stored.jobs.root?.alert?.alerted).toEqual({ e1: '2026-11-23T10:02:00Z' });
    expect(daemon.job('root').alert?.watermark).toBe('2026-11-23T10:15:00Z');
  });

  it('names the file and what it expected when the file is corrupt', async () => {
    const file = path.join(await tempDir(), 'state.json');
    await writeFile(file, '{"schema": "trailwarden.state/v1", "jobs": {"weekly": {"last_run": 42}}}');
    await expect(new LocalStateStore({ path: file }).read()).rejects.toThrow(StateCorruptError);
    await expect(new LocalStateStore({ path: file }).read()).rejects.toThrow(
      new RegExp(`${file}: not a trailwarden state document .*\\n  - jobs\\.weekly\\.last_run: `),
    );
    await writeFile(file, '{"schema": "trailw');
    await expect(new LocalStateStore({ path: file }).read()).rejects.toThrow(`${file}: not valid JSON`);
  });

  it('takes over a lock left by a writer that was killed', async () => {
    const file = path.join(await tempDir(), 'state.json');
    // A pid that cannot be running (above the kernel's limit).
    await writeFile(`${file}.lock`, JSON.stringify({ pid: 2 ** 30, host: (await import('node:os')).hostname() }));
    await new LocalStateStore({ path: file }).write(stateWith('after crash'), undefined);
    expect((await new LocalStateStore({ path: file }).read()).state).toEqual(stateWith('after crash'));
  });

  it("lets exactly one of many writers take over a killed writer's lock: breaking a stale lock never removes a live one", async () => {
    // Prepare: a lock left by a dead process, and eight writers that all find it stale at once.
    const file = path.join(await tempDir(), 'state.json');
    await writeFile(`${file}.lock`, JSON.stringify({ pid: 2 ** 30, host: (await import('node:os')).hostname(), token: 'dead' }));
    const writers = Array.from({ length: 8 }, () => new LocalStateStore({ path: file }));
    // Act
    const results = await Promise.allSettled(writers.map((store, i) => store.write(stateWith(`writer ${i}`), undefined)));
    // Assess: one winner, the rest refused (none silently overwrote the winner), and no lock or stray file left.
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StateConflictError);
    expect((await new LocalStateStore({ path: file }).read()).state).toEqual(stateWith(`writer ${won[0]}`));
    expect(await readdir(path.dirname(file))).toEqual(['state.json']);
  });
});

describe('s3 state store (s3rver)', () => {
  let s3: LocalS3;
  let bucket: string;
  const sent: { ifMatch?: string; ifNoneMatch?: string }[] = [];

  function store(key = 'trailwarden/state.json'): S3StateStore {
    const client = s3.newClient();
    // Records what goes over the wire: the conditional headers real S3 enforces.
    client.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string>; method?: string }).headers ?? {};
        if ((args.request as { method?: string }).method === 'PUT') sent.push({ ifMatch: headers['if-match'], ifNoneMatch: headers['if-none-match'] });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordConditionalHeaders' },
    );
    return new S3StateStore({ bucket, key, client });
  }

  beforeAll(async () => {
    s3 = await startS3();
    bucket = await s3.createBucket('trailwarden-state');
  });
  afterAll(async () => {
    await s3.stop();
  });

  it('creates with If-None-Match: *, replaces with If-Match: <ETag>, and reads back', async () => {
    sent.length = 0;
    const a = store('roundtrip.json');
    const v1 = await a.write(stateWith('first'), undefined);
    const v2 = await a.write(stateWith('second'), v1);
    expect(await a.read()).toEqual({ state: stateWith('second'), version: v2 });
    expect(sent).toEqual([
      { ifMatch: undefined, ifNoneMatch: '*' },
      { ifMatch: v1, ifNoneMatch: undefined },
    ]);
  });

  it('refuses the second of two first writes, and a write from a stale version', async () => {
    const a = store('two-daemons.json');
    const b = store('two-daemons.json');
    // Both start with nothing stored.
    const v1 = await a.write(stateWith('daemon a'), undefined);
    await expect(b.write(stateWith('daemon b'), undefined)).rejects.toBeInstanceOf(StateConflictError);
    // Both read v1; a writes first; b's write from v1 loses.
    const fromB = await b.read();
    expect(fromB.version).toBe(v1);
    await a.write(stateWith('daemon a again'), v1);
    await expect(b.write(stateWith('daemon b'), fromB.version)).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
    expect((await a.read()).state).toEqual(stateWith('daemon a again'));
  });

  it('names the object when it is not a state document', async () => {
    await s3.put(bucket, 'corrupt.json', 'not json');
    await expect(store('corrupt.json').read()).rejects.toThrow(`s3://${bucket}/corrupt.json: not valid JSON`);
  });
});
