/**
 * The demo events that give the IAM inventory's checks something to find, from a random stream of their own (so
 * the noise and the script stay as they were): S3 data events in account 111111111111 only — its trail logs them,
 * the other account's does not — and a role of 222222222222 used only through AssumeRole, whose session then makes
 * data-plane calls that its trail does not log.
 */
import type { AccountActors, RoleActor, UserActor } from './actors.js';
import { bucketHost } from './action.js';
import type { CloudTrailRecord } from './cloudtrail-record.js';
import { GLOBAL_REGION } from './constants.js';
import { buildRecord, s3Extra, userIdentityOf } from './records.js';
import type { Rng } from './rng.js';
import type { Scripted } from './scripted-events.js';
import { HOUR_MS, SECOND_MS, dayAt, type Clock } from './time.js';

/** The role of 222222222222 that only AssumeRole shows in use (see inventory.ts). */
export const ASSUME_ONLY_ROLE = 's3-uploader';

/** An S3 object read by a role session, logged as a data event. */
function objectRead(role: RoleActor, bucket: string, key: string, region: string, ms: number, rng: Rng): CloudTrailRecord {
  const record = buildRecord(
    {
      identity: userIdentityOf(role, ms, rng),
      ms,
      account: role.account,
      region,
      source: 's3.amazonaws.com',
      name: 'GetObject',
      sourceIP: rng.pick(role.ips),
      userAgent: '[aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2]',
      requestParameters: { bucketName: bucket, Host: bucketHost(bucket, region), key },
      additionalEventData: s3Extra(rng),
      requestID: rng.upperAlnum(16),
      readOnly: true,
      resources: [
        { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}`, accountId: role.account },
        { accountId: role.account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
      ],
    },
    rng,
  );
  return { ...record, managementEvent: false, eventCategory: 'Data' };
}

function assumeRole(user: UserActor, roleArn: string, roleName: string, ms: number, rng: Rng): CloudTrailRecord {
  const session = `${user.name}-${Math.floor(ms / 1000)}`;
  return buildRecord(
    {
      identity: userIdentityOf(user, ms, rng),
      ms,
      account: user.account,
      region: GLOBAL_REGION,
      source: 'sts.amazonaws.com',
      name: 'AssumeRole',
      sourceIP: rng.pick(user.ips),
      userAgent: 'aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.9 command/sts.assume-role',
      requestParameters: { roleArn, roleSessionName: session, durationSeconds: 3600 },
      responseElements: {
        credentials: {
          accessKeyId: `ASIA${rng.upperAlnum(16)}`,
          sessionToken: `IQoJb3JpZ2luX2VjE${rng.alnum(120)}`,
          expiration: new Date(ms + HOUR_MS).toUTCString(),
        },
        assumedRoleUser: { assumedRoleId: `AROA${rng.upperAlnum(17)}:${session}`, arn: `arn:aws:sts::${user.account}:assumed-role/${roleName}/${session}` },
      },
      readOnly: true,
      resources: [{ accountId: user.account, type: 'AWS::IAM::Role', ARN: roleArn }],
      sharedEventID: rng.uuid(),
    },
    rng,
  );
}

function find<T extends { name: string }>(list: readonly T[], name: string): T {
  const found = list.find((item) => item.name === name);
  if (!found) throw new Error(`demo inventory events name an unknown actor: ${name}`);
  return found;
}

/** The events, in no particular order; `rng` is their own stream. */
export function inventoryEvents(clock: Clock, [a, b]: [AccountActors, AccountActors], rng: Rng): Scripted[] {
  const out: Scripted[] = [];
  const deployer = find(a.roles, 'ci-deployer');
  const pipeline = find(a.roles, 'data-pipeline');
  for (let daysAgo = 1; daysAgo <= 30; daysAgo += 1) {
    // The deployer reads build artifacts; the pipeline reads the data lake. Neither ever writes an object.
    const at = (hms: string): number => dayAt(clock, daysAgo, hms) + rng.int(600) * SECOND_MS;
    out.push({
      account: a.world.account,
      region: 'eu-west-1',
      record: objectRead(deployer, a.world.buckets[0]!, `builds/web-${daysAgo}.zip`, 'eu-west-1', at('10:15:00'), rng),
    });
    out.push({
      account: a.world.account,
      region: 'eu-west-1',
      record: objectRead(pipeline, a.world.buckets[1]!, `raw/2026/day-${daysAgo}.parquet`, 'eu-west-1', at('03:30:00'), rng),
    });
  }
  const uploader = `arn:aws:iam::${b.world.account}:role/${ASSUME_ONLY_ROLE}`;
  const harry = find(b.users, 'harry.data');
  for (const daysAgo of [3, 17, 29]) {
    out.push({
      account: b.world.account,
      region: GLOBAL_REGION,
      record: assumeRole(harry, uploader, ASSUME_ONLY_ROLE, dayAt(clock, daysAgo, '06:45:10'), rng),
    });
  }
  return out;
}
