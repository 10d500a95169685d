/**
 * The fixed facts of the demo: its as-of time and seed, its accounts, organization and regions, and the trail
 * that "delivered" the files.
 */

/** The as-of time the demo data is built around. */
export const DEMO_AS_OF = '2026-11-23T08:00:00Z';
export const DEMO_SEED = 20261123;

/** 111111111111 uses the plain layout, 222222222222 the organization-trail layout. */
export const DEMO_ACCOUNTS = ['111111111111', '222222222222'] as const;
export const DEMO_ORGANIZATION_ID = 'o-a1b2c3d4e5';
export const DEMO_REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'] as const;
/** Where IAM, STS and console sign-in events are logged. */
export const GLOBAL_REGION = 'us-east-1';
export const TRAIL_BUCKET = 'acme-org-cloudtrail-logs';
export const TRAIL_NAME = 'org-management-trail';
