/**
 * The resources of one demo account (buckets, tables, instances…) that API calls name in their parameters.
 */
import type { Rng } from './rng.js';

export interface World {
  account: string;
  buckets: string[];
  tables: string[];
  functions: string[];
  keyIds: string[];
  instances: string[];
  volumes: string[];
  vpcs: string[];
  subnets: string[];
  securityGroups: string[];
  secrets: string[];
  parameters: string[];
  logGroups: string[];
  stacks: string[];
  clusters: string[];
  databases: string[];
  repositories: string[];
  roleNames: string[];
  userNames: string[];
}

/** An account's resources; `prefix` names them, `rng` draws the ids. */
export function makeWorld(account: string, rng: Rng, prefix: string, roleNames: string[], userNames: string[]): World {
  const ids = (n: number, make: () => string): string[] => Array.from({ length: n }, make);
  return {
    account,
    buckets: [`${prefix}-artifacts`, `${prefix}-data-lake`, `${prefix}-static-site`, `${prefix}-backups`, `${prefix}-terraform-state`],
    tables: [`${prefix}-orders`, `${prefix}-sessions`, `${prefix}-inventory`, `${prefix}-audit-log`],
    functions: [`${prefix}-orders-handler`, `${prefix}-thumbnailer`, `${prefix}-nightly-report`, `${prefix}-slack-notifier`],
    keyIds: ids(3, () => rng.uuid()),
    instances: ids(6, () => `i-0${rng.hex(16)}`),
    volumes: ids(6, () => `vol-0${rng.hex(16)}`),
    vpcs: ids(2, () => `vpc-0${rng.hex(16)}`),
    subnets: ids(4, () => `subnet-0${rng.hex(16)}`),
    securityGroups: ids(4, () => `sg-0${rng.hex(16)}`),
    secrets: [`prod/${prefix}/db-password`, `prod/${prefix}/stripe-api-key`, `shared/github-token`],
    parameters: [`/${prefix}/prod/db-host`, `/${prefix}/prod/feature-flags`, `/${prefix}/shared/log-level`],
    logGroups: [`/aws/lambda/${prefix}-orders-handler`, `/aws/lambda/${prefix}-thumbnailer`, `/ecs/${prefix}-web`],
    stacks: [`${prefix}-network`, `${prefix}-app`, `${prefix}-data`, `${prefix}-monitoring`],
    clusters: [`${prefix}-prod`, `${prefix}-staging`],
    databases: [`${prefix}-prod-db`, `${prefix}-reporting-db`],
    repositories: [`${prefix}/web`, `${prefix}/worker`, `${prefix}/migrations`],
    roleNames,
    userNames,
  };
}
