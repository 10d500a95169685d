/**
 * Routine noise: how many events each two-hour slot gets, which live actor makes each one and with which
 * action, and the AWS services acting on their own (role assumptions, ACL checks, KMS, backups).
 */
import { bucketHost, roleArnOf, type Action } from './action.js';
import { activeRange, type AccountActors, type ActiveRange, type Actor, type RoleActor } from './actors.js';
import { ACTIONS, type ActionKey, type Mix } from './catalog.js';
import type { CloudTrailRecord } from './cloudtrail-record.js';
import { GLOBAL_REGION } from './constants.js';
import { apiCall, buildRecord, s3Extra, type ApiCallOptions } from './records.js';
import type { Rng } from './rng.js';
import { HOUR_MS, type Clock } from './time.js';
import type { World } from './world.js';

export const ACCOUNT_WEIGHT = [0.6, 0.4];
export const REGION_WEIGHT = [0.5, 0.33, 0.17];
export const SLOT_MS = 2 * HOUR_MS;

/** Busier on weekdays and in working hours, never silent. */
export function slotWeight(startMs: number): number {
  const d = new Date(startMs);
  const weekday = d.getUTCDay() !== 0 && d.getUTCDay() !== 6;
  const hour = d.getUTCHours();
  return (weekday ? 1 : 0.35) * (hour >= 6 && hour < 20 ? 1 : 0.3);
}

/** An actor's action mix, split by whether the region may log each action. */
interface Picker {
  keys: ActionKey[];
  weights: number[];
}

function picker(mix: Mix, keep: (a: Action) => boolean): Picker {
  const keys: ActionKey[] = [];
  const weights: number[] = [];
  for (const [key, weight] of Object.entries(mix) as [ActionKey, number][]) {
    if (keep(ACTIONS[key])) {
      keys.push(key);
      weights.push(weight);
    }
  }
  return { keys, weights };
}

export interface NoiseActor {
  actor: Actor;
  range: ActiveRange;
  everywhere: Picker;
  regional: Picker;
}

/** The actors ready for noise: when each is active and what it may call in us-east-1 and elsewhere. */
export function noiseActors(actors: readonly Actor[], clock: Clock): NoiseActor[] {
  return actors.map((actor) => ({
    actor,
    range: activeRange(actor.profile, clock),
    everywhere: picker(actor.mix, () => true),
    regional: picker(actor.mix, (a) => !a.global),
  }));
}

function decoyError(action: Action): { code: string; message: string } {
  const service = action.source.split('.')[0];
  if (service === 'iam') return { code: 'NoSuchEntity', message: 'The user with name deploy-old cannot be found.' };
  if (service === 'ec2') return { code: 'Client.RequestLimitExceeded', message: 'Request limit exceeded.' };
  if (service === 'dynamodb') return { code: 'ResourceNotFoundException', message: 'Requested resource not found' };
  return { code: 'ThrottlingException', message: 'Rate exceeded' };
}

/** The actors that may act in one slot, with their weights. */
export interface SlotPools {
  roles: NoiseActor[];
  roleWeights: number[];
  users: NoiseActor[];
  userWeights: number[];
}

/** The actors active at some point between `from` and `to`, with their weights. */
export function slotPools(roles: readonly NoiseActor[], users: readonly NoiseActor[], from: number, to: number): SlotPools {
  const live = (list: readonly NoiseActor[]): NoiseActor[] => list.filter((n) => n.range.from < to && n.range.to > from);
  const liveRoles = live(roles);
  const liveUsers = live(users);
  return { roles: liveRoles, roleWeights: liveRoles.map((n) => n.actor.weight), users: liveUsers, userWeights: liveUsers.map((n) => n.actor.weight) };
}

/** About 62% role sessions, 18% IAM users and 20% AWS services, as in a typical account. */
export function noiseEvent(acct: AccountActors, pools: SlotPools, region: string, ms: number, rng: Rng): CloudTrailRecord {
  const roll = rng.next();
  const [pool, weights] = roll < 0.62 ? [pools.roles, pools.roleWeights] : roll < 0.8 ? [pools.users, pools.userWeights] : [[], []];
  if (pool.length > 0) {
    const chosen = rng.weighted(pool, weights);
    const pick = region === GLOBAL_REGION ? chosen.everywhere : chosen.regional;
    if (ms >= chosen.range.from && ms < chosen.range.to && pick.keys.length > 0) {
      const key = rng.weighted(pick.keys, pick.weights);
      const errorRoll = rng.next();
      const options: ApiCallOptions = errorRoll < 0.004 ? { error: decoyError(ACTIONS[key]) } : errorRoll < 0.0055 ? { denied: true } : {};
      return apiCall(chosen.actor, key, acct.world, region, ms, rng, options);
    }
  }
  return serviceEvent(acct.world, region, ms, rng, acct.roles);
}

// --- AWS services acting on their own -------------------------------------------------------------

function serviceEvent(world: World, region: string, ms: number, rng: Rng, roles: RoleActor[]): CloudTrailRecord {
  const account = world.account;
  const roll = rng.next();
  if (region === GLOBAL_REGION && roll < 0.6) {
    // A service assuming an execution role: the bulk of real AWSService records.
    const service = rng.pick(['lambda.amazonaws.com', 'ec2.amazonaws.com', 'ecs-tasks.amazonaws.com', 'glue.amazonaws.com']);
    const role = rng.pick(roles);
    const session = service === 'ec2.amazonaws.com' ? `i-0${rng.hex(16)}` : rng.pick(role.sessionNames);
    return buildRecord(
      {
        identity: { type: 'AWSService', invokedBy: service },
        ms,
        account,
        region,
        source: 'sts.amazonaws.com',
        name: 'AssumeRole',
        sourceIP: service,
        userAgent: service,
        requestParameters: { roleArn: role.arn, roleSessionName: session, durationSeconds: 3600 },
        responseElements: {
          credentials: {
            accessKeyId: `ASIA${rng.upperAlnum(16)}`,
            sessionToken: `IQoJb3JpZ2luX2VjE${rng.alnum(120)}`,
            expiration: new Date(ms + HOUR_MS).toUTCString(),
          },
          assumedRoleUser: { assumedRoleId: `${role.id}:${session}`, arn: `arn:aws:sts::${account}:assumed-role/${role.name}/${session}` },
        },
        readOnly: true,
        resources: [{ accountId: account, type: 'AWS::IAM::Role', ARN: role.arn }],
        sharedEventID: rng.uuid(),
      },
      rng,
    );
  }
  if (roll < 0.9) {
    // CloudTrail and Config checking a bucket's ACL, and EBS using KMS for volume encryption.
    if (rng.chance(0.5)) {
      const bucket = rng.pick(world.buckets);
      const service = rng.pick(['cloudtrail.amazonaws.com', 'config.amazonaws.com']);
      return buildRecord(
        {
          identity: { type: 'AWSService', invokedBy: service },
          ms,
          account,
          region,
          source: 's3.amazonaws.com',
          name: 'GetBucketAcl',
          sourceIP: service,
          userAgent: service,
          requestParameters: { bucketName: bucket, Host: bucketHost(bucket, region), acl: '' },
          additionalEventData: s3Extra(rng),
          requestID: rng.upperAlnum(16),
          readOnly: true,
          resources: [{ accountId: account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }],
          sharedEventID: rng.uuid(),
        },
        rng,
      );
    }
    const keyId = rng.pick(world.keyIds);
    return buildRecord(
      {
        identity: { type: 'AWSService', invokedBy: 'ebs.amazonaws.com' },
        ms,
        account,
        region,
        source: 'kms.amazonaws.com',
        name: 'Decrypt',
        sourceIP: 'ebs.amazonaws.com',
        userAgent: 'ebs.amazonaws.com',
        requestParameters: { encryptionContext: { 'aws:ebs:id': rng.pick(world.volumes) }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
        readOnly: true,
        resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${account}:key/${keyId}` }],
        sharedEventID: rng.uuid(),
      },
      rng,
    );
  }
  if (rng.chance(0.5)) {
    // KMS's yearly automatic key rotation: an AwsServiceEvent whose userIdentity has no type at all.
    const keyId = rng.pick(world.keyIds);
    return buildRecord(
      {
        identity: { accountId: account, invokedBy: 'kms.amazonaws.com' },
        ms,
        account,
        region,
        source: 'kms.amazonaws.com',
        name: 'RotateKey',
        sourceIP: 'kms.amazonaws.com',
        userAgent: 'kms.amazonaws.com',
        requestParameters: null,
        responseElements: null,
        readOnly: false,
        resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${account}:key/${keyId}` }],
        eventType: 'AwsServiceEvent',
        serviceEventDetails: { keyId },
      },
      rng,
    );
  }
  return buildRecord(
    {
      identity: { type: 'AWSService', invokedBy: 'backup.amazonaws.com' },
      ms,
      account,
      region,
      source: 'backup.amazonaws.com',
      name: 'BackupJobCompleted',
      sourceIP: 'backup.amazonaws.com',
      userAgent: 'backup.amazonaws.com',
      readOnly: false,
      eventType: 'AwsServiceEvent',
      serviceEventDetails: {
        backupJobId: rng.uuid().toUpperCase(),
        backupVaultName: 'Default',
        resourceType: 'DynamoDB',
        state: 'COMPLETED',
        percentDone: '100.0',
        backupSizeInBytes: String(rng.between(10_000, 90_000_000)),
        iamRoleArn: roleArnOf(account, 'service-role/AWSBackupDefaultServiceRole'),
        creationDate: { seconds: Math.floor(ms / 1000) - 600, nanos: 0 },
      },
    },
    rng,
  );
}
