/**
 * DEMO ONLY. The key pair the demo generator signs its CloudTrail digests with, in place of CloudTrail's own: RSA
 * 2048, SHA256withRSA like CloudTrail's. Node cannot seed RSA key generation, so the demo ships a fixed pair: the
 * private key here (it protects nothing: anyone can read it, which is the point of a demo), the public key in
 * `config/demo/cloudtrail-public-keys.json`, in the shape of `aws cloudtrail list-public-keys` output.
 * Never configure this key for real logs.
 */
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';

const DEMO_PRIVATE_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDNWLLbxt8wsuE7
VXa/z/j4lNTtyo9MKOk2uxjsi+PsgT69lR5Q+eB/GorPXG4mD8kUjjCkyS9VzHBD
qTuDtAPGsv+SjOUDZEybtV1mbzIOoaQvaZ3R6MvURDQZsQEoHg0dpYuReil9yXx4
mOZn+k8uFoyWVnbiqV3F5bLD0l4jeV/N3Te0USkdDmbpjRMdWH1DyuKGeMbhqMSd
Vb4LIyenNQKRuLbaSfzO3jZszesXQH30siqhl/nAICo4HiTGidWTgVfNUqAJ3mfn
39nm43Narr8hXztzsvnOLWpzqaEbPtdG3qtbou85VriVHtL9qOAboD/glRv8eGs1
AtjhMpmHAgMBAAECggEAOec5CCAb72+Bc2m2AoByhCXzpNnpbmBa4sP/UzRfIOGQ
/4R89/h+BVlGqxI1PSZWXSV7MfxJDLiJL4sY7RpltjHjPz/blAlEUOPjYm8Yfme2
FGiDyB0M3N4ekuAGo3lV2XZE1NDNwlp+bsMutUMv8J8LJZlcDK4VcyhCMFWxle6y
ORVsV2KjCPkrvjYYcqTA9Dd3Ax9uouvWrh14gee+JSlEevFFD6X3C6+aSCQL610H
6j6dYWA5qX3yWVGc3gM4tQe7YMvy9mxXJ7LtbEzYYo/9LnwUOugOEAhbIoHsRa6A
ijgWTLEPsojtCiXxBGV8m1eFejHF0Ny5APAELiI7gQKBgQDzvq9LG5/D/apb6zZA
51aFTmsqV69GGj6N+sE3vPdMKkLUrSIpeGCVIqeAT2kAJGdURn5KrwxeCFThxuLv
ziHyvab0gQTQrdaQNiA33DnTeKtGmVhj4y8Nseg0jjA82ceQ3rRuDy0rxPnaU4MU
Xbh0BCMe0NcjCdntUyMb86u2RQKBgQDXq8bIu/Lbirgz5USN0r/eWFUlh1sZdbRU
3NC4Z+DwzxLZY0oVrnK7boEZ+C5WO6VAoXp5U2/4rJs+Xh1ruMreScRweoa4f0gn
NXzYzHWx2CUqFxTEoL8y7L/Y4GrHq0NS63sh+FrF18MNbJDzdGgYveMTEvdg3Nzb
5Giky04DWwKBgQDnisyaXLN4Sw/6IYZ4QUo/eC71Gja2MVgbJ4lEmY2SHNM/lPhO
zLty8GiNyuHD8ND3jb+K0p689M0tbPFHPFmjbeWbfrRER977P297oQiNiqOpfSIq
QTYBnG8o/al1JKwfQm/D3UbbvVJbw9lRD3aZPxTdwSWdc05B1CgV9XO4wQKBgAGp
cDGxyRBKBFtaA+o32oSjF5zfayNKFealgPI60q/oWJPWQQbjvjyVgGcr02eUtBRI
akIvE2jOI7AaV42x8dY+qUXYm9smF+89aUXeZXXGXZrybJWLS43f5yaLrCb3ueAU
snEzkbd+jyE2WfOWTQsLw4ktFzzm1sjW/LtwWZyLAoGAU/W1/PZjsQmvWfl+ts0Z
eWi06W+1jB52z233R2l5kmJUZCzxXpAw3/EwSHFQUkSorHZy4FBm7utXmuXk0USh
D8INzvvZQeimyvdfGIwdVkNwQN97qE3KUxu6m4ukCfiDtFrZ0T4Gu/KAuEkcy8rQ
hpMjjG2M/hzZV859DUBDKdo=
-----END PRIVATE KEY-----
`;

const privateKey = createPrivateKey(DEMO_PRIVATE_KEY_PEM);

/** The public key as CloudTrail's ListPublicKeys returns it: PKCS #1 DER. */
export const DEMO_PUBLIC_KEY_DER = createPublicKey(privateKey).export({ type: 'pkcs1', format: 'der' });

/** The fingerprint digests name the key by (`digestPublicKeyFingerprint`): MD5 of the DER key, hex. */
export const DEMO_KEY_FINGERPRINT = createHash('md5').update(DEMO_PUBLIC_KEY_DER).digest('hex');

/** SHA256withRSA over `text`, hex: what CloudTrail puts in a digest object's `signature` metadata. */
export function signDemo(text: string): string {
  return sign('sha256', Buffer.from(text), privateKey).toString('hex');
}
