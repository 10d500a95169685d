/**
 * The shape of what the demo generator writes: a CloudTrail management-event record and the free-form
 * JSON inside it. Types only.
 */

/** Any JSON value, as CloudTrail writes free-form fields (`requestParameters`, …). */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue | undefined;
}

/** `userIdentity.sessionContext` as CloudTrail writes it. */
export interface SessionContext {
  sessionIssuer?: { type: string; principalId: string; arn: string; accountId: string; userName: string };
  webIdFederationData?: JsonObject;
  attributes?: { creationDate: string; mfaAuthenticated: 'true' | 'false' };
  ec2RoleDelivery?: string;
}

export interface UserIdentity {
  /** Absent in some service events (KMS key rotation writes only accountId and invokedBy). */
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  sessionContext?: SessionContext;
  invokedBy?: string;
}

export interface ResourceRef {
  ARN: string;
  accountId: string;
  type: string;
}

/**
 * One CloudTrail management-event record. Keys are CloudTrail's exact camelCase, declared in the order
 * AWS writes them (JSON.stringify keeps insertion order). `undefined` means the key is absent from the
 * file, `null` that it is written as JSON null: AWS does both and readers must cope with either.
 */
export interface CloudTrailRecord {
  eventVersion: string;
  userIdentity: UserIdentity;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters?: JsonObject | null;
  responseElements?: JsonObject | null;
  additionalEventData?: JsonObject;
  requestID?: string;
  eventID: string;
  readOnly?: boolean;
  resources?: ResourceRef[];
  eventType: string;
  apiVersion?: string;
  managementEvent: boolean;
  recipientAccountId: string;
  serviceEventDetails?: JsonObject;
  sharedEventID?: string;
  vpcEndpointId?: string;
  eventCategory: string;
  tlsDetails?: { tlsVersion: string; cipherSuite: string; clientProvidedHostHeader: string };
  sessionCredentialFromConsole?: string;
}
