/**
 * An IAM- and STS-protocol test server of ours: a loopback HTTP server speaking the AWS query protocol (a
 * form-encoded POST, an XML answer), so that the real `@aws-sdk/client-iam` and `@aws-sdk/client-sts` — their
 * serialisation, pagination and XML parsing — are exercised over the wire. No IAM emulator is small enough to start
 * per test, hence this one.
 *
 * What it emulates:
 * - `GetAccountAuthorizationDetails`, paged (`MaxItems` or `pageSize` entities a page, `Marker`): the documents it is
 *   given, one per account, with every policy document URL-encoded as the real API returns them. The account is the
 *   caller's: the access key id of the request's signature (`AKIA…` keys are the default account's, `ASIA<account>`
 *   keys an assumed role's).
 * - `GetCallerIdentity` (the default account) and `AssumeRole` (credentials `ASIA<account>` for the role's
 *   account, refused with AccessDenied for accounts listed in `denyAssume`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IamServerOptions {
  /** Each account's `get-account-authorization-details` document (as the CLI writes it). */
  readonly documents: Readonly<Record<string, Record<string, unknown>>>;
  /** The account of the default credentials. */
  readonly defaultAccount: string;
  /** Entities per page (across the four lists); default 7. */
  readonly pageSize?: number;
  /** Accounts whose role may not be assumed. */
  readonly denyAssume?: readonly string[];
}

export interface IamServer {
  readonly endpoint: string;
  /** The Action of every request, in order, with the account it was answered for. */
  readonly calls: { action: string; account: string }[];
  close(): Promise<void>;
}

const LISTS = ['UserDetailList', 'GroupDetailList', 'RoleDetailList', 'Policies'] as const;
const DOCUMENT_KEYS = new Set(['PolicyDocument', 'AssumeRolePolicyDocument', 'Document']);

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON → the query protocol's XML: objects as elements, lists as `<member>`s, documents URL-encoded. */
function xml(value: unknown, key = ''): string {
  if (value === null || value === undefined) return '';
  if (DOCUMENT_KEYS.has(key) && typeof value === 'object') return escapeXml(encodeURIComponent(JSON.stringify(value)));
  if (Array.isArray(value)) return value.map((item) => `<member>${xml(item)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `<${k}>${xml(v, k)}</${k}>`)
      .join('');
  }
  // A date as the API writes it: ISO-8601 with Z.
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/.test(value)) return value.replace('+00:00', 'Z');
  return escapeXml(typeof value === 'string' ? value : JSON.stringify(value));
}

function answer(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

function error(res: http.ServerResponse, status: number, code: string, message: string): void {
  answer(
    res,
    status,
    `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>test</RequestId></ErrorResponse>`,
  );
}

export async function startIamServer(options: IamServerOptions): Promise<IamServer> {
  const calls: IamServer['calls'] = [];
  const pageSize = options.pageSize ?? 7;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const action = form.get('Action') ?? '';
      const keyId = /Credential=([A-Z0-9]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const account = /^ASIA(\d{12})$/.exec(keyId)?.[1] ?? options.defaultAccount;
      calls.push({ action, account });
      if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
        return error(res, 400, 'InvalidRequest', 'expected a form-encoded POST (the query protocol)');
      }
      if (action === 'GetCallerIdentity') {
        return answer(
          res,
          200,
          `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${account}:user/tester</Arn><UserId>AIDATEST</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>test</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
        );
      }
      if (action === 'AssumeRole') {
        const target = /^arn:aws:iam::(\d{12}):role\//.exec(form.get('RoleArn') ?? '')?.[1];
        if (!target || options.denyAssume?.includes(target)) {
          return error(
            res,
            403,
            'AccessDenied',
            `User: arn:aws:iam::${account}:user/tester is not authorized to perform: sts:AssumeRole on resource: ${form.get('RoleArn')}`,
          );
        }
        const expiration = new Date(Date.now() + 900_000).toISOString();
        return answer(
          res,
          200,
          `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIA${target}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::${target}:assumed-role/r/${escapeXml(form.get('RoleSessionName') ?? '')}</Arn><AssumedRoleId>AROATEST:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>test</RequestId></ResponseMetadata></AssumeRoleResponse>`,
        );
      }
      if (action === 'GetAccountAuthorizationDetails') {
        const document = options.documents[account];
        if (!document) return error(res, 403, 'AccessDenied', `no IAM data for account ${account}`);
        // One flat list of (list, entity), cut into pages; each page regrouped by list.
        const entities = LISTS.flatMap((list) => ((document[list] as unknown[] | undefined) ?? []).map((entity) => ({ list, entity })));
        const start = Number(form.get('Marker') ?? 0);
        const size = Number(form.get('MaxItems') ?? pageSize);
        const page = entities.slice(start, start + size);
        const truncated = start + size < entities.length;
        const grouped = Object.fromEntries(LISTS.map((list) => [list, page.filter((e) => e.list === list).map((e) => e.entity)]));
        return answer(
          res,
          200,
          `<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountAuthorizationDetailsResult>${xml(grouped)}<IsTruncated>${truncated}</IsTruncated>${truncated ? `<Marker>${start + size}</Marker>` : ''}</GetAccountAuthorizationDetailsResult><ResponseMetadata><RequestId>test</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>`,
        );
      }
      return error(res, 400, 'InvalidAction', `unknown action ${action}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
