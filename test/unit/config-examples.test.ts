import { describe, expect, it } from 'vitest';
import { loadSetup } from '../../src/config/load.js';

describe('the shipped example configurations', () => {
  it('config/examples/aws.yaml is valid and selects Athena, the S3 source and archive, and SES', async () => {
    // Act
    const { loaded, checks } = await loadSetup('config/examples/aws.yaml');

    // Assess
    const { engine, source, archive, mail } = loaded.config;
    expect([engine.kind, source.kind, archive.kind, mail.kind]).toEqual(['athena', 's3', 's3', 'ses']);
    expect(checks.length).toBeGreaterThan(0);
  });

  it('rejects Athena over a local tree and a CTAS mode without a location, naming both keys at once', async () => {
    // Prepare
    const { TrailwardenConfig } = await import('../../src/config/schema.js');

    // Act
    const result = TrailwardenConfig.safeParse({
      source: { kind: 'local', path: 'logs' },
      engine: { kind: 'athena' },
      archive: { kind: 'local', path: 'archive' },
      mail: { kind: 'outbox', path: 'outbox', from: 'a@example.com', to: ['b@example.com'] },
    });

    // Assess
    expect(result.success).toBe(false);
    const keys = result.error!.issues.map((issue) => issue.path.join('.'));
    expect(keys).toEqual(expect.arrayContaining(['source.kind', 'engine.ctas_location']));
  });

  it('refuses an S3 prefix with a quote, which would break out of the DDL string it ends up in', async () => {
    // Prepare
    const { S3SourceConfig } = await import('../../src/config/schema.js');

    // Act
    const quoted = S3SourceConfig.safeParse({ kind: 's3', bucket: 'trail-bucket', prefix: "logs'/" });
    const plain = S3SourceConfig.safeParse({ kind: 's3', bucket: 'trail-bucket', prefix: 'org/logs' });

    // Assess
    expect(quoted.success).toBe(false);
    expect(quoted.error!.issues[0]!.path).toEqual(['prefix']);
    expect(plain.success && plain.data.prefix).toBe('org/logs/');
  });
});
