import { createHash } from 'node:crypto';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { validateLogIntegrity, type FoundDigest, type HashedLogFile, type SignatureCheck } from '../../src/core/integrity.js';
import { demoDigestSignature } from '../../src/demo/digests.js';
import { DEMO_KEY_FINGERPRINT, signDemo } from '../../src/demo/signing-key.js';
import { loadPublicKeysFile } from '../../src/integrity/public-keys.js';
import { digestStringToSign, readDigest } from '../../src/integrity/validate.js';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const logKey = (hhmm: string, id: string) =>
  `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2026/11/20/${ACCOUNT}_CloudTrail_${REGION}_20261120T${hhmm}Z_${id}.json.gz`;
const digestKeyAt = (hh: string) =>
  `AWSLogs/${ACCOUNT}/CloudTrail-Digest/${REGION}/2026/11/20/${ACCOUNT}_CloudTrail-Digest_${REGION}_trail_${REGION}_20261120T${hh}0000Z.json.gz`;
const UNSIGNED: SignatureCheck = { status: 'unverifiable', reason: 'no signature metadata' };

/** A chain of hourly digests ending at the given hours, each listing the given files (key → content). */
function chain(hours: readonly { hh: string; files: Record<string, string>; restart?: boolean }[]): FoundDigest[] {
  const found: FoundDigest[] = [];
  let previous: { key: string; sha256: string } | undefined;
  for (const { hh, files, restart } of hours) {
    if (restart) previous = undefined;
    const key = digestKeyAt(hh);
    const end = `2026-11-20T${hh}:00:00Z`;
    const json = {
      digestStartTime: `2026-11-20T${String(Number(hh) - 1).padStart(2, '0')}:00:00Z`,
      digestEndTime: end,
      digestS3Bucket: 'b',
      digestS3Object: key,
      digestPublicKeyFingerprint: 'f',
      previousDigestS3Bucket: previous ? 'b' : null,
      previousDigestS3Object: previous?.key ?? null,
      previousDigestHashValue: previous?.sha256 ?? null,
      previousDigestSignature: null,
      logFiles: Object.entries(files).map(([s3Object, content]) => ({ s3Bucket: 'b', s3Object, hashValue: sha(content), hashAlgorithm: 'SHA-256' })),
    };
    const text = JSON.stringify(json);
    found.push({ key, account: ACCOUNT, region: REGION, content: { json, sha256: sha(text) }, signature: UNSIGNED });
    previous = { key, sha256: sha(text) };
  }
  return found;
}

const log = (key: string, content: string): HashedLogFile => ({ key, account: ACCOUNT, region: REGION, sha256: sha(content) });
const validate = (digests: FoundDigest[], logs: HashedLogFile[]) =>
  validateLogIntegrity({ digests, logs, inScope: (key) => key.includes('/2026/11/20/'), digestsFrom: '2026-11-20T00:00:00Z' });

describe('log file validation (core)', () => {
  const a = logKey('1005', 'aaaaaaaaaaaaaaaa');
  const b = logKey('1105', 'bbbbbbbbbbbbbbbb');

  it('verifies files listed with their hash, and says the signatures were not checked', () => {
    const result = validate(
      chain([
        { hh: '11', files: { [a]: 'A' } },
        { hh: '12', files: { [b]: 'B' } },
      ]),
      [log(a, 'A'), log(b, 'B')],
    );
    expect(result.problems).toEqual([]);
    expect(result.verified).toBe(2);
    expect(result.incomplete).toBeUndefined();
    expect(result.summary).toBe('2 of 2 log files verified against 2 digests; hashes verified, signatures not verifiable (no signature metadata)');
  });

  it('finds a modified, a missing and an injected file, and a chain gap', () => {
    // Prepare: b is deleted, a edited, c never delivered; the 13:00 digest is missing and the chain restarts at 14:00.
    const c = logKey('1107', 'cccccccccccccccc');
    const d = logKey('1235', 'dddddddddddddddd');
    const digests = chain([
      { hh: '11', files: { [a]: 'A' } },
      { hh: '12', files: { [b]: 'B' } },
      { hh: '14', files: {}, restart: true },
    ]);

    // Act
    const result = validate(digests, [log(a, 'A edited'), log(c, 'C'), log(d, 'D')]);

    // Assess
    expect(result.problems.map((p) => [p.problem, p.objectKey, p.observedAt])).toEqual([
      ['modified', a, '2026-11-20T10:05:00Z'],
      ['missing', b, '2026-11-20T11:05:00Z'],
      ['not_covered', c, '2026-11-20T11:07:00Z'],
      ['chain_gap', digestKeyAt('14'), '2026-11-20T12:00:00Z'],
      ['not_covered', d, '2026-11-20T12:35:00Z'],
    ]);
    expect(result.summary).toMatch(/^0 of 3 log files verified against 3 digests; 1 modified; 1 missing; 2 not covered by a digest; 1 chain gap/);
  });

  it('rejects a digest moved from where it was delivered, or edited (the next digest holds its hash), and a deleted digest', () => {
    const digests = chain([
      { hh: '11', files: { [a]: 'A' } },
      { hh: '12', files: { [b]: 'B' } },
      { hh: '13', files: {} },
      { hh: '14', files: {} },
    ]);
    const edited = { ...digests[0]!, content: { json: (digests[0]!.content as { json: unknown }).json, sha256: sha('something else') } };
    const moved = { ...digests[1]!, key: digests[1]!.key.replace('/20/', '/21/') };
    const result = validate([edited, moved, digests[3]!], [log(a, 'A'), log(b, 'B')]);
    const kinds = result.problems.map((p) => `${p.problem} ${p.detail}`);
    expect(kinds.some((k) => k.startsWith('invalid_digest has been moved from its original location'))).toBe(true);
    // The 13:00 digest is gone: the 14:00 one names it.
    expect(result.problems.find((p) => p.problem === 'missing')?.objectKey).toBe(digestKeyAt('13'));
    // b is listed only by the moved digest: nothing valid vouches for it.
    expect(result.problems.find((p) => p.objectKey === b)?.problem).toBe('not_covered');
  });

  it('flags a digest whose content differs from the hash its successor recorded', () => {
    const digests = chain([
      { hh: '11', files: { [a]: 'A' } },
      { hh: '12', files: {} },
    ]);
    const edited = { ...digests[0]!, content: { json: (digests[0]!.content as { json: unknown }).json, sha256: sha('rewritten') } };
    const result = validate([edited, digests[1]!], [log(a, 'A')]);
    expect(result.problems.map((p) => [p.problem, p.objectKey])).toEqual([
      ['not_covered', a],
      ['invalid_digest', digestKeyAt('11')],
    ]);
  });

  it('is incomplete without digests, and counts files after the newest digest apart', () => {
    const none = validate([], [log(a, 'A')]);
    expect(none.incomplete).toMatch(/^no digest files found/);
    expect(none.problems).toEqual([]);
    const late = logKey('1230', 'eeeeeeeeeeeeeeee');
    const result = validate(
      chain([
        { hh: '11', files: { [a]: 'A' } },
        { hh: '12', files: {} },
      ]),
      [log(a, 'A'), log(late, 'E')],
    );
    expect(result.problems).toEqual([]);
    expect(result.afterNewestDigest).toBe(1);
    expect(result.summary).toContain('1 file delivered after the newest digest (not yet verifiable)');
  });
});

describe('digest signatures (SHA256withRSA, as validate-logs checks them)', () => {
  const keysFile = path.resolve('config/demo/cloudtrail-public-keys.json');
  const key = 'AWSLogs/111111111111/CloudTrail-Digest/eu-west-1/2026/11/20/x_20261120T110000Z.json.gz';
  const body = JSON.stringify({
    digestEndTime: '2026-11-20T11:00:00Z',
    digestS3Bucket: 'bucket',
    digestS3Object: key,
    digestPublicKeyFingerprint: DEMO_KEY_FINGERPRINT,
    previousDigestSignature: null,
  });

  it('verifies a signature over the string to sign with the key of its fingerprint, and rejects an edited digest', async () => {
    const keys = await loadPublicKeysFile(keysFile);
    const gz = gzipSync(body);
    const signature = demoDigestSignature(gz);
    expect(signature).toBe(signDemo(digestStringToSign(JSON.parse(body) as Parameters<typeof digestStringToSign>[0], sha(body))));
    const object = { key, bucket: 'bucket', account: ACCOUNT, region: REGION, body: gz, signature: { value: signature, algorithm: 'SHA256withRSA' } };
    expect(readDigest(object, keys).signature).toEqual({ status: 'valid', fingerprint: DEMO_KEY_FINGERPRINT });
    const edited = { ...object, body: gzipSync(body.replace('11:00:00Z', '11:00:01Z')) };
    expect(readDigest(edited, keys).signature.status).toBe('invalid');
    expect(readDigest({ ...object, signature: undefined }, keys).signature.status).toBe('unverifiable');
    expect(readDigest(object, undefined).signature.status).toBe('unverifiable');
    // Keys that could not be listed: the signature is not judged either way, and the reason says why.
    expect(readDigest(object, 'keys could not be read').signature).toEqual({ status: 'unverifiable', reason: 'keys could not be read' });
  });

  it('reports a malformed keys file by file and key', async () => {
    await expect(loadPublicKeysFile(path.resolve('config/trailwarden.yaml'))).rejects.toThrow(/trailwarden\.yaml.*cannot read it as JSON/s);
  });
});
