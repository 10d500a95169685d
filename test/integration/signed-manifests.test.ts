import { chmod, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/fixtures.js';
import { forgeCsvAndHash, localRunConfig, runFolders } from '../support/manifest.js';
import { startKmsServer, type KmsServer, type KmsTestKey } from '../support/kms-server.js';

const sha256 = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIATESTKMS000000000', AWS_SECRET_ACCESS_KEY: 'test-secret', AWS_REGION: 'us-east-1' };

/** A config with `signing` lines, a local archive and one day of logs, in `dir`. */
function signedConfig(dir: string, name: string, signing: readonly string[]): Promise<string> {
  return localRunConfig(dir, name, signing);
}

const pem = (key: { export(options: { format: 'pem'; type: 'spki' }): string | Buffer }) => key.export({ format: 'pem', type: 'spki' });

describe('manifests signed with a local Ed25519 key', () => {
  let dir = '';
  let config = '';
  let runs: string[] = [];
  let fingerprint = '';
  let secondRun = { code: 0, stderr: '' };

  beforeAll(async () => {
    // Prepare: an Ed25519 key file (owner-only), and two signed runs; before the second the key turns group-readable.
    dir = await tempDir('trailwarden-signed-');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    await writeFile(path.join(dir, 'signing.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    await writeFile(path.join(dir, 'signing.pub.pem'), pem(publicKey));
    await writeFile(path.join(dir, 'other.pub.pem'), pem(generateKeyPairSync('ed25519').publicKey));
    fingerprint = sha256(publicKey.export({ format: 'der', type: 'spki' }));
    config = await signedConfig(dir, 'trailwarden.yaml', ['signing: { kind: ed25519, private_key_file: signing.pem }']);
    const first = await runCli(['run', '--config', config, '--as-of', '2026-11-21T00:00:00Z']);
    expect(first.code, first.stderr).toBe(0);
    await chmod(path.join(dir, 'signing.pem'), 0o644);
    secondRun = await runCli(['run', '--config', config, '--as-of', '2026-11-22T00:00:00Z']);
    runs = await runFolders(path.join(dir, 'archive'));
  }, 240_000);

  it('signs the exact manifest bytes, and verify names the key (not pinned unless a trusted key is given)', async () => {
    // Act
    const sidecar = JSON.parse(await readFile(path.join(runs[0]!, 'manifest.sig.json'), 'utf8')) as Record<string, unknown>;
    const manifest = await readFile(path.join(runs[0]!, 'manifest.json'));
    const verified = await runCli(['verify', runs[0]!, '--config', config]);
    const pinned = await runCli(['verify', runs[0]!, '--config', config, '--trusted-key', path.join(dir, 'signing.pub.pem')]);
    const chain = await runCli(['verify', '--chain', '--config', config]);

    // Assess
    expect(secondRun.code, secondRun.stderr).toBe(0);
    expect(secondRun.stderr).toContain('is readable by its group or others; restrict it with chmod 600');
    const keyId = `ed25519:${fingerprint.slice(0, 16)}`;
    expect(sidecar).toMatchObject({ schema: 'trailwarden.manifest-signature/v1', manifest_sha256: sha256(manifest), algorithm: 'ED25519', key_id: keyId });
    expect((JSON.parse(manifest.toString('utf8')) as { signing: unknown }).signing).toEqual({
      kind: 'ed25519',
      key_id: keyId,
      algorithm: 'ED25519',
      public_key_sha256: fingerprint,
    });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`signed by ${keyId} (ED25519, public key SHA-256 ${fingerprint}), signer not pinned`);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stdout).toContain(`signed by ${keyId} (ED25519, public key SHA-256 ${fingerprint}), trusted key`);
    expect(chain.code, chain.stderr).toBe(0);
    expect(chain.stdout).toContain(`plain runs: 2 run(s) verified, chain intact; signed by ${keyId}`);
  });

  it('a CSV edited along with its hash in the manifest fails verify and verify --chain, naming the run', async () => {
    // Prepare
    const undo = await forgeCsvAndHash(runs[0]!);
    const runId = path.basename(runs[0]!);

    // Act
    const alone = await runCli(['verify', runs[0]!, '--config', config]);
    const chain = await runCli(['verify', '--chain', '--config', config]);
    await undo();

    // Assess
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain('manifest.json: changed after it was signed');
    expect(alone.stdout).toContain('manifest.sig.json: the signature does not verify against manifest.json');
    expect(alone.stderr).toContain(`run ${runId}: `);
    expect(chain.code).toBe(1);
    expect(chain.stderr).toContain(
      `the manifest chain is broken: run ${runId}: it does not verify against its manifest (manifest.json: changed after it was signed`,
    );
  });

  it('a signed run whose signature was deleted fails', async () => {
    // Prepare
    const sidecar = path.join(runs[1]!, 'manifest.sig.json');
    const away = path.join(dir, 'manifest.sig.json.away');
    await rename(sidecar, away);

    // Act
    const alone = await runCli(['verify', runs[1]!, '--config', config]);
    const chain = await runCli(['verify', '--chain', '--config', config]);
    await rename(away, sidecar);

    // Assess
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain(`manifest.sig.json: missing, but the manifest says the run was signed by ed25519:${fingerprint.slice(0, 16)} (removed?)`);
    expect(chain.code).toBe(1);
    expect(chain.stderr).toContain(`run ${path.basename(runs[1]!)}: it does not verify against its manifest (manifest.sig.json: missing`);
  });

  it('a signature by a key other than the trusted one fails', async () => {
    // Act
    const alone = await runCli(['verify', runs[0]!, '--config', config, '--trusted-key', path.join(dir, 'other.pub.pem')]);
    const chain = await runCli(['verify', '--chain', '--config', config, '--trusted-key', path.join(dir, 'other.pub.pem')]);

    // Assess
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain(
      `manifest.sig.json: signed by ed25519:${fingerprint.slice(0, 16)} (ED25519, public key SHA-256 ${fingerprint}), which is not a trusted key`,
    );
    expect(chain.code).toBe(1);
    expect(chain.stderr).toContain(`run ${path.basename(runs[0]!)}: it does not verify against its manifest (manifest.sig.json: signed by`);
  });

  it('refuses to start with a key file that is not an Ed25519 private key, or cannot be read, naming the file', async () => {
    // Prepare
    await writeFile(path.join(dir, 'ec.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const ec = await signedConfig(dir, 'ec.yaml', ['signing: { kind: ed25519, private_key_file: ec.pem }']);
    const missing = await signedConfig(dir, 'missing.yaml', ['signing: { kind: ed25519, private_key_file: nowhere.pem }']);
    const daemonConfig = await signedConfig(dir, 'daemon.yaml', [
      'signing: { kind: ed25519, private_key_file: ec.pem }',
      'jobs: { weekly: { type: report, schedule: "0 8 * * 1" } }',
      'daemon: { health: { port: 0 } }',
    ]);

    // Act
    const ecRun = await runCli(['run', '--config', ec, '--as-of', '2026-11-23T00:00:00Z']);
    const missingRun = await runCli(['run', '--config', missing, '--as-of', '2026-11-23T00:00:00Z']);
    // The daemon checks the key at its start, not at the first report hours later.
    const daemon = await runCli(['daemon', '--config', daemonConfig]);

    // Assess: nothing was archived.
    expect(ecRun.code).not.toBe(0);
    expect(ecRun.stderr).toContain(`signing.private_key_file: ${path.join(dir, 'ec.pem')} holds a ec key; expected an Ed25519 key`);
    expect(missingRun.code).not.toBe(0);
    expect(missingRun.stderr).toContain(`signing.private_key_file: cannot read ${path.join(dir, 'nowhere.pem')}`);
    expect(daemon.code).toBe(1);
    expect(daemon.stderr).toContain(`signing.private_key_file: ${path.join(dir, 'ec.pem')} holds a ec key; expected an Ed25519 key`);
    expect(await runFolders(path.join(dir, 'archive'))).toHaveLength(2);
  });
});

describe('manifests signed with a KMS key (the real SDK against our KMS-protocol server)', () => {
  let server: KmsServer;
  let dir = '';
  let ecKey: KmsTestKey;
  let rsaKey: KmsTestKey;
  let ecConfig = '';
  let rsaConfig = '';
  let runs: string[] = [];

  beforeAll(async () => {
    // Prepare: an ECC_NIST_P256 and an RSA_2048 key; one run signed with each (no algorithm configured: the key's).
    server = await startKmsServer();
    ecKey = server.createKey('ECC_NIST_P256', 'alias/trailwarden-ec');
    rsaKey = server.createKey('RSA_2048', 'alias/trailwarden-rsa');
    dir = await tempDir('trailwarden-kms-signed-');
    await writeFile(path.join(dir, 'ec.pub.pem'), pem(ecKey.publicKey));
    await writeFile(path.join(dir, 'rsa.pub.pem'), pem(rsaKey.publicKey));
    const kms = (alias: string) => [`signing: { kind: kms, key_id: ${alias}, region: us-east-1, endpoint: ${JSON.stringify(server.endpoint)} }`];
    ecConfig = await signedConfig(dir, 'ec.yaml', kms('alias/trailwarden-ec'));
    rsaConfig = await signedConfig(dir, 'rsa.yaml', kms('alias/trailwarden-rsa'));
    for (const [config, asOf] of [
      [ecConfig, '2026-11-21T00:00:00Z'],
      [rsaConfig, '2026-11-22T00:00:00Z'],
    ] as const) {
      const run = await runCli(['run', '--config', config, '--as-of', asOf], { env: AWS_ENV });
      expect(run.code, run.stderr).toBe(0);
    }
    runs = await runFolders(path.join(dir, 'archive'));
  }, 240_000);
  afterAll(async () => {
    await server?.close();
  });

  it('signs with ECDSA_SHA_256 and RSASSA_PSS_SHA_256 through KMS, and verify (no AWS access) names the key ARN', async () => {
    // Act
    const ec = await runCli(['verify', runs[0]!, '--config', ecConfig, '--trusted-key', path.join(dir, 'ec.pub.pem')]);
    const rsa = await runCli(['verify', runs[1]!, '--config', ecConfig]);

    // Assess
    const fp = (key: KmsTestKey) => sha256(key.publicKey.export({ format: 'der', type: 'spki' }));
    expect(ec.code, ec.stderr).toBe(0);
    expect(ec.stdout).toContain(`signed by ${ecKey.arn} (ECDSA_SHA_256, public key SHA-256 ${fp(ecKey)}), trusted key`);
    expect(rsa.code, rsa.stderr).toBe(0);
    expect(rsa.stdout).toContain(`signed by ${rsaKey.arn} (RSASSA_PSS_SHA_256, public key SHA-256 ${fp(rsaKey)}), signer not pinned`);
    // KMS signed digests only; the public key was fetched once per run.
    expect(server.calls.filter((c) => c === 'Sign')).toHaveLength(2);
    expect(server.calls.filter((c) => c === 'GetPublicKey')).toHaveLength(2);
  });

  it('verify --chain flags the change of signing key between runs, unless both keys are trusted', async () => {
    // Act
    const unpinned = await runCli(['verify', '--chain', '--config', ecConfig]);
    const pinned = await runCli([
      'verify',
      '--chain',
      '--config',
      ecConfig,
      '--trusted-key',
      path.join(dir, 'ec.pub.pem'),
      '--trusted-key',
      path.join(dir, 'rsa.pub.pem'),
    ]);

    // Assess
    expect(unpinned.code).toBe(1);
    expect(unpinned.stderr).toContain(`run ${path.basename(runs[1]!)}: it is signed by ${rsaKey.arn}`);
    expect(unpinned.stderr).toContain('the signing key changed');
    expect(pinned.code, pinned.stderr).toBe(0);
  });

  it('a CSV edited along with its hash fails verify with the KMS signature, naming the run', async () => {
    // Prepare
    const undo = await forgeCsvAndHash(runs[1]!);

    // Act
    const alone = await runCli(['verify', runs[1]!, '--config', ecConfig]);
    await undo();

    // Assess
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain(`run ${path.basename(runs[1]!)}: `);
    expect(alone.stdout).toContain(`manifest.sig.json: the signature does not verify against manifest.json with the key it names (${rsaKey.arn})`);
  });

  it('a KMS error while signing fails the run loudly; the evidence stays, unsigned, and verify says so', async () => {
    // Prepare
    server.failSign(1);

    // Act
    const run = await runCli(['run', '--config', ecConfig, '--as-of', '2026-11-23T00:00:00Z'], { env: AWS_ENV });
    const folder = (await runFolders(path.join(dir, 'archive')))[2]!;
    const verified = await runCli(['verify', folder, '--config', ecConfig]);

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('the manifest could not be signed');
    expect(run.stderr).toContain('KMSInvalidStateException');
    expect(await readdir(folder)).toContain('manifest.json');
    expect(await readdir(folder)).not.toContain('manifest.sig.json');
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(`manifest.sig.json: missing, but the manifest says the run was signed by ${ecKey.arn}`);
  });
});
