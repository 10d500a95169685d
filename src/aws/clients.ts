import { AthenaClient, type AthenaClientConfig } from '@aws-sdk/client-athena';
import { CloudTrailClient, type CloudTrailClientConfig } from '@aws-sdk/client-cloudtrail';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { IAMClient, type IAMClientConfig } from '@aws-sdk/client-iam';
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { STSClient, type STSClientConfig } from '@aws-sdk/client-sts';

type AnyClient = S3Client | AthenaClient | SESv2Client | IAMClient | STSClient | CloudTrailClient | KMSClient;

/** Ready SDK clients to use instead of building them (tests point them at local peers). */
export interface AwsClientOverrides {
  readonly s3?: S3Client;
  readonly athena?: AthenaClient;
  readonly ses?: SESv2Client;
  readonly sts?: STSClient;
}

/**
 * The SDK clients of one composition root: built on first use from the settings a config section gives, one per
 * distinct settings (the archive and the state in one bucket share a client), and destroyed together when the
 * root closes. Credentials are never set here: the SDK's default provider chain finds them.
 */
export class AwsClients {
  readonly #overrides: AwsClientOverrides;
  readonly #built = new Map<string, AnyClient>();

  constructor(overrides: AwsClientOverrides = {}) {
    this.#overrides = overrides;
  }

  #get<T extends AnyClient>(service: string, settings: object, build: () => T): T {
    // Credentials (an assumed role's) are keyed by their access key id: a secret never becomes a map key.
    const key = `${service} ${JSON.stringify(settings, (name, value: unknown) => (name === 'credentials' && value ? (value as { accessKeyId?: string }).accessKeyId : value))}`;
    let client = this.#built.get(key) as T | undefined;
    if (!client) {
      client = build();
      this.#built.set(key, client);
    }
    return client;
  }

  s3(settings: S3ClientConfig): S3Client {
    return this.#overrides.s3 ?? this.#get('s3', settings, () => new S3Client(settings));
  }

  athena(settings: AthenaClientConfig): AthenaClient {
    return this.#overrides.athena ?? this.#get('athena', settings, () => new AthenaClient(settings));
  }

  ses(settings: SESv2ClientConfig): SESv2Client {
    return this.#overrides.ses ?? this.#get('ses', settings, () => new SESv2Client(settings));
  }

  /**
   * IAM clients are always built here, never handed in: the inventory asks for one per assumed role (their
   * credentials differ), so a test points them at its local peer through the config's endpoint instead.
   */
  iam(settings: IAMClientConfig): IAMClient {
    return this.#get('iam', settings, () => new IAMClient(settings));
  }

  /** CloudTrail, for its public keys (log file validation); a test points it at its local peer through the config's endpoint. */
  cloudtrail(settings: CloudTrailClientConfig): CloudTrailClient {
    return this.#get('cloudtrail', settings, () => new CloudTrailClient(settings));
  }

  /** KMS, for signing manifests; a test points it at its local peer through the config's endpoint. */
  kms(settings: KMSClientConfig): KMSClient {
    return this.#get('kms', settings, () => new KMSClient(settings));
  }

  sts(settings: STSClientConfig): STSClient {
    return this.#overrides.sts ?? this.#get('sts', settings, () => new STSClient(settings));
  }

  /** Destroys the clients built here; handed-in ones belong to whoever handed them in. */
  destroy(): void {
    for (const client of this.#built.values()) client.destroy();
    this.#built.clear();
  }
}
