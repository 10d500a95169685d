/**
 * `inventory.kind: iam`: the same data as the file kind, live: `GetAccountAuthorizationDetails` (every page) for the
 * account of the current credentials, or for each listed account through a role assumed in it with STS. The pages
 * are merged into the document the CLI would have written, and parsed by the same code as a file.
 */
import { paginateGetAccountAuthorizationDetails, type IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { describeError, InventoryError } from '../core/errors.js';
import { parseAccountDocument } from './file.js';
import type { AccountInventory, IamInventorySource, InventorySnapshot } from './types.js';

/** Temporary credentials of an assumed role. */
export interface RoleCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface IamInventoryOptions {
  /** An IAM client: with the default credentials, or with an assumed role's. The root builds and destroys them. */
  readonly iam: (credentials?: RoleCredentials) => IAMClient;
  readonly sts: STSClient;
  readonly accounts?: readonly string[];
  readonly roleName: string;
  readonly externalId?: string;
}

const LISTS = ['UserDetailList', 'GroupDetailList', 'RoleDetailList', 'Policies'] as const;

export class IamInventorySourceApi implements IamInventorySource {
  readonly kind = 'iam';
  readonly #options: IamInventoryOptions;

  constructor(options: IamInventoryOptions) {
    this.#options = options;
  }

  describe(): string {
    return this.#options.accounts ? `IAM API, accounts ${this.#options.accounts.join(', ')} (role ${this.#options.roleName})` : 'IAM API, current account';
  }

  async load(): Promise<InventorySnapshot> {
    const accounts: AccountInventory[] = [];
    const problems: string[] = [];
    const targets = this.#options.accounts ?? [undefined];
    for (const target of targets) {
      const where = `iam:${target ?? 'current account'}`;
      try {
        const client = this.#options.iam(target ? await this.#assume(target) : undefined);
        const expected = target ?? (await this.#options.sts.send(new GetCallerIdentityCommand({}))).Account;
        const { inventory, problems: found } = parseAccountDocument(await this.#document(client), `iam:${expected ?? '?'}`);
        problems.push(...found);
        if (inventory && expected && inventory.account !== expected) {
          problems.push(`${where}: the details are of account ${inventory.account}, expected ${expected}`);
        } else if (inventory) accounts.push(inventory);
      } catch (error) {
        problems.push(`${where}: ${describeError(error)}`);
      }
    }
    if (problems.length > 0) throw new InventoryError(problems);
    return { accounts: accounts.sort((a, b) => (a.account < b.account ? -1 : 1)) };
  }

  async #assume(account: string): Promise<RoleCredentials> {
    const roleArn = `arn:aws:iam::${account}:role/${this.#options.roleName}`;
    const answer = await this.#options.sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'trailwarden-inventory', ExternalId: this.#options.externalId, DurationSeconds: 900 }),
    );
    const c = answer.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error(`AssumeRole ${roleArn} returned no credentials`);
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
  }

  /** Every page merged into one `get-account-authorization-details` document (dates as ISO text, documents as sent). */
  async #document(client: IAMClient): Promise<string> {
    const merged: Record<(typeof LISTS)[number], unknown[]> = { UserDetailList: [], GroupDetailList: [], RoleDetailList: [], Policies: [] };
    // No Filter: every entity type, AWS managed policies included, so that their documents are known.
    for await (const page of paginateGetAccountAuthorizationDetails({ client }, {})) {
      for (const list of LISTS) merged[list].push(...((page[list] as unknown[] | undefined) ?? []));
    }
    return `${JSON.stringify(merged, null, 2)}\n`;
  }
}
