import type { AuthorizationDetails } from './authorization-details.js';

/** One account's authorization details, as read, with where they came from. */
export interface AccountInventory {
  /** From the ARNs inside, never from a file name. */
  readonly account: string;
  /** Where it was read: a file path, or `iam:<account>` for the live API. */
  readonly origin: string;
  readonly details: AuthorizationDetails;
  /** The document as archived with the run (the file's bytes, or the API's pages merged): evidence of what was judged. */
  readonly text: string;
}

/** Every account's authorization details at one moment. */
export interface InventorySnapshot {
  readonly accounts: readonly AccountInventory[];
}

/**
 * Where the IAM inventory comes from (`inventory.kind`): a folder of `get-account-authorization-details` outputs, or
 * the IAM API itself. One file per kind; the registry maps kinds to them.
 */
export interface IamInventorySource {
  readonly kind: string;
  /** For logs and the report: the folder, or the accounts asked. */
  describe(): string;
  /** Reads every account's details. Fails (InventoryError, naming file and key) rather than judging on a partial inventory. */
  load(): Promise<InventorySnapshot>;
}
