/**
 * `inventory.kind: file`: a folder of `aws iam get-account-authorization-details --output json` outputs, one file per
 * account. The account is read from the ARNs inside (a file may be named anything); two files of one account, a
 * file without a single ARN or one the schema refuses stop the run, each problem naming the file and key.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { zodProblems } from '../core/catalog.js';
import { InventoryError } from '../core/errors.js';
import { accountOfArn, AuthorizationDetails } from './authorization-details.js';
import type { AccountInventory, IamInventorySource, InventorySnapshot } from './types.js';

/** The one account every ARN of the details belongs to (AWS managed policies, `arn:aws:iam::aws:…`, belong to none). */
export function accountOfDetails(details: AuthorizationDetails, where: string): { account?: string; problem?: string } {
  const arns = [
    ...details.RoleDetailList.map((r) => r.Arn),
    ...details.UserDetailList.map((u) => u.Arn),
    ...details.GroupDetailList.map((g) => g.Arn),
    ...details.Policies.map((p) => p.Arn),
  ];
  const accounts = new Set(arns.map(accountOfArn).filter((a): a is string => a !== undefined));
  if (accounts.size === 1) return { account: [...accounts][0] };
  if (accounts.size === 0) return { problem: `${where}: no role, user, group or customer managed policy ARN names an account` };
  return { problem: `${where}: ARNs of ${accounts.size} accounts (${[...accounts].sort().join(', ')}); expected one account per file` };
}

/** Parses one account's document (text as read); problems name `where`. */
export function parseAccountDocument(text: string, where: string): { inventory?: AccountInventory; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { problems: [`${where}: not JSON: ${(error as Error).message}`] };
  }
  const parsed = AuthorizationDetails.safeParse(raw);
  if (!parsed.success) return { problems: zodProblems(where, parsed.error) };
  const { account, problem } = accountOfDetails(parsed.data, where);
  if (!account) return { problems: [problem!] };
  return { inventory: { account, origin: where, details: parsed.data, text }, problems: [] };
}

export class FileInventorySource implements IamInventorySource {
  readonly kind = 'file';
  readonly #path: string;

  constructor(options: { path: string }) {
    this.#path = options.path;
  }

  describe(): string {
    return this.#path;
  }

  async load(): Promise<InventorySnapshot> {
    let names: string[];
    try {
      names = (await readdir(this.#path, { withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => e.name);
    } catch (error) {
      throw new InventoryError([`${this.#path}: cannot read the inventory folder: ${(error as Error).message}`], { cause: error });
    }
    if (names.length === 0)
      throw new InventoryError([`${this.#path}: no *.json files (expected one "aws iam get-account-authorization-details" output per account)`]);
    const problems: string[] = [];
    const accounts = new Map<string, AccountInventory>();
    for (const name of names.sort()) {
      const file = path.join(this.#path, name);
      const { inventory, problems: found } = parseAccountDocument(await readFile(file, 'utf8'), file);
      problems.push(...found);
      if (!inventory) continue;
      const earlier = accounts.get(inventory.account);
      if (earlier) problems.push(`${file}: account ${inventory.account} is also in ${earlier.origin}; expected one file per account`);
      else accounts.set(inventory.account, inventory);
    }
    if (problems.length > 0) throw new InventoryError(problems);
    return { accounts: [...accounts.values()].sort((a, b) => (a.account < b.account ? -1 : 1)) };
  }
}
