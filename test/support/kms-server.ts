/**
 * A KMS-protocol test server of ours: a loopback HTTP server speaking AWS JSON 1.1
 * (`X-Amz-Target: TrentService.<Operation>`), so the real `@aws-sdk/client-kms` is exercised over the wire.
 * Keys are generated with node:crypto. What it implements, per the KMS API reference:
 * - GetPublicKey: KeyId (key id, key ARN, alias name or alias ARN) → KeyId (the ARN), PublicKey (SPKI DER, a base64
 *   blob in JSON), KeySpec, KeyUsage SIGN_VERIFY, SigningAlgorithms.
 * - Sign: KeyId, Message (base64 blob), MessageType RAW (hashed here) or DIGEST (must be the digest's length, 32 for
 *   *_SHA_256), SigningAlgorithm (must be one the key offers) → KeyId, Signature (DER for ECDSA), SigningAlgorithm.
 * - Errors as KMS sends them: `{ "__type": "NotFoundException" | "ValidationException" | "KMSInvalidStateException" … }`.
 * Signing a bare digest is done by hand (node:crypto signs messages, hashing them itself): ECDSA P-256 from the
 * curve arithmetic ECDH exposes, RSA by EMSA-PSS / EMSA-PKCS1-v1_5 encoding and a raw RSA private operation.
 */
import { constants, createECDH, createHash, generateKeyPairSync, privateEncrypt, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type KmsKeySpec = 'ECC_NIST_P256' | 'RSA_2048';

export interface KmsTestKey {
  readonly keyId: string;
  readonly arn: string;
  readonly spec: KmsKeySpec;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface KmsServer {
  readonly endpoint: string;
  /** Creates a signing key; `alias` (`alias/…`) points at it. */
  createKey(spec: KmsKeySpec, alias?: string): KmsTestKey;
  /** Operations received, in order (`GetPublicKey`, `Sign`). */
  readonly calls: string[];
  /** The next `n` Sign calls fail with KMSInvalidStateException (a disabled key). */
  failSign(n: number): void;
  close(): Promise<void>;
}

const REGION = 'us-east-1';
const ACCOUNT = '111122223333';
// secp256r1's group order.
const P256_N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

const toBig = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  base %= mod;
  for (; exp > 0n; exp >>= 1n, base = (base * base) % mod) if (exp & 1n) result = (result * base) % mod;
  return result;
}
function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

/** ECDSA over a bare SHA-256 digest with P-256: r from the x of kG (ECDH's public key for private k). */
function ecdsaSignDigest(privateKey: KeyObject, digest: Buffer): Buffer {
  const d = toBig(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
  const e = toBig(digest);
  for (;;) {
    const k = toBig(randomBytes(32)) % P256_N;
    if (k === 0n) continue;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(k.toString(16).padStart(64, '0'), 'hex'));
    const r = toBig(ecdh.getPublicKey().subarray(1, 33)) % P256_N;
    if (r === 0n) continue;
    const s = (modPow(k, P256_N - 2n, P256_N) * ((e + r * d) % P256_N)) % P256_N;
    if (s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return Buffer.concat([Buffer.from([0x30, body.length]), body]);
  }
}

function mgf1(seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * 32 < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash('sha256').update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

/** RSASSA-PSS over a bare SHA-256 digest, salt length 32 (KMS's), MGF1-SHA-256 (RFC 8017 9.1.1). */
function pssSignDigest(privateKey: KeyObject, digest: Buffer): Buffer {
  const modBits = privateKey.asymmetricKeyDetails!.modulusLength!;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(32);
  const h = createHash('sha256').update(Buffer.alloc(8)).update(digest).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 32 - 32 - 2), Buffer.from([1]), salt]);
  const masked = mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ masked[i]!;
  db[0] = db[0]! & (0xff >> (8 * emLen - emBits));
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  const padded = Buffer.concat([Buffer.alloc(modBits / 8 - em.length), em]);
  return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, padded);
}

function sign(key: KmsTestKey, algorithm: string, digest: Buffer): Buffer {
  switch (algorithm) {
    case 'ECDSA_SHA_256':
      return ecdsaSignDigest(key.privateKey, digest);
    case 'RSASSA_PSS_SHA_256':
      return pssSignDigest(key.privateKey, digest);
    case 'RSASSA_PKCS1_V1_5_SHA_256':
      return privateEncrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest]));
    default:
      throw new Error(algorithm);
  }
}

const ALGORITHMS: Record<KmsKeySpec, string[]> = {
  ECC_NIST_P256: ['ECDSA_SHA_256'],
  // KMS lists all six for RSA keys; only the SHA-256 ones are implemented here.
  RSA_2048: [
    'RSASSA_PSS_SHA_256',
    'RSASSA_PSS_SHA_384',
    'RSASSA_PSS_SHA_512',
    'RSASSA_PKCS1_V1_5_SHA_256',
    'RSASSA_PKCS1_V1_5_SHA_384',
    'RSASSA_PKCS1_V1_5_SHA_512',
  ],
};

class KmsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startKmsServer(): Promise<KmsServer> {
  const keys = new Map<string, KmsTestKey>();
  const aliases = new Map<string, string>();
  const calls: string[] = [];
  let signFailures = 0;

  const find = (id: unknown): KmsTestKey => {
    if (typeof id !== 'string' || id.length === 0) throw new KmsFault('ValidationException', 'KeyId is required');
    const alias = id.replace(/^arn:aws:kms:[^:]+:\d+:(?=alias\/)/, '');
    const keyId = aliases.get(alias) ?? id.replace(/^arn:aws:kms:[^:]+:\d+:key\//, '');
    const key = keys.get(keyId);
    if (!key) throw new KmsFault('NotFoundException', `Key '${id}' does not exist`);
    return key;
  };

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    GetPublicKey: (body) => {
      const key = find(body.KeyId);
      return {
        KeyId: key.arn,
        PublicKey: key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
        KeySpec: key.spec,
        CustomerMasterKeySpec: key.spec,
        KeyUsage: 'SIGN_VERIFY',
        SigningAlgorithms: ALGORITHMS[key.spec],
      };
    },
    Sign: (body) => {
      const key = find(body.KeyId);
      if (signFailures > 0) {
        signFailures--;
        throw new KmsFault('KMSInvalidStateException', `${key.arn} is disabled.`);
      }
      const algorithm = typeof body.SigningAlgorithm === 'string' ? body.SigningAlgorithm : '';
      if (!ALGORITHMS[key.spec].includes(algorithm)) throw new KmsFault('InvalidKeyUsageException', `${algorithm} is not valid for ${key.arn}`);
      if (!algorithm.endsWith('_SHA_256')) throw new KmsFault('ValidationException', `${algorithm} is not implemented by this test server`);
      if (typeof body.Message !== 'string') throw new KmsFault('ValidationException', 'Message is required');
      const message = Buffer.from(body.Message, 'base64');
      if (message.length < 1 || message.length > 4096) throw new KmsFault('ValidationException', 'Message must be 1 to 4096 bytes');
      const type = typeof body.MessageType === 'string' ? body.MessageType : 'RAW';
      if (type !== 'RAW' && type !== 'DIGEST') throw new KmsFault('ValidationException', `MessageType ${type} is not valid`);
      if (type === 'DIGEST' && message.length !== 32) {
        throw new KmsFault('ValidationException', `Digest is invalid length for algorithm ${algorithm}.`);
      }
      const digest = type === 'DIGEST' ? message : createHash('sha256').update(message).digest();
      return { KeyId: key.arn, Signature: sign(key, algorithm, digest).toString('base64'), SigningAlgorithm: algorithm };
    },
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.replace(/^TrentService\./, '');
      calls.push(operation);
      try {
        if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 '))
          throw new KmsFault('MissingAuthenticationTokenException', 'Missing Authentication Token');
        const handler = target.startsWith('TrentService.') ? operations[operation] : undefined;
        if (!handler) throw new KmsFault('UnknownOperationException', `${target} is not implemented by this test server`);
        reply(200, handler(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>));
      } catch (error) {
        if (error instanceof KmsFault) reply(400, { __type: error.type, message: error.message });
        else reply(500, { __type: 'KMSInternalException', message: String(error) });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    createKey(spec, alias) {
      const keyId = randomUUID();
      const pair = spec === 'ECC_NIST_P256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
      const key = { keyId, arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`, spec, privateKey: pair.privateKey, publicKey: pair.publicKey };
      keys.set(keyId, key);
      if (alias) aliases.set(alias, keyId);
      return key;
    },
    failSign(n) {
      signFailures = n;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
