import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that reached the proxy, as the client sent it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, e.g. `/bucket/key?x-id=PutObject`. */
  readonly url: string;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** What the proxy did with it. */
  readonly outcome: 'forwarded' | 'failed' | 'dropped' | 'cut';
}

/**
 * A loopback HTTP proxy in front of a real server (s3rver) that can be told to fail: answer an S3-style
 * error status for the next N requests, or drop the next N connections without answering. Everything else
 * is forwarded byte for byte (the Host header too, so SigV4 signatures stay valid). Real HTTP, no SDK mocks.
 */
export interface FlakyProxy {
  /** `http://127.0.0.1:<port>`: give this to the client instead of the target's endpoint. */
  readonly endpoint: string;
  /** Every request seen, in arrival order. */
  readonly requests: RecordedRequest[];
  /** The next `count` requests (optionally only those matching) get `status` (503 by default, or per request) with an S3 error body. */
  failNext(
    count: number,
    options?: { status?: number | ((request: { method: string; url: string }) => number); matching?: (request: { method: string; url: string }) => boolean },
  ): void;
  /** The next `count` requests (optionally only those matching) have their connection destroyed before any answer. */
  dropNext(count: number, options?: { matching?: (request: { method: string; url: string }) => boolean }): void;
  /** The next `count` requests (optionally only those matching) are forwarded, but the answer is cut off after half its body. */
  cutNext(count: number, options?: { matching?: (request: { method: string; url: string }) => boolean }): void;
  /** Forget pending failures. */
  heal(): void;
  stop(): Promise<void>;
}

type Matcher = (request: { method: string; url: string }) => boolean;

export async function startFlakyProxy(target: string): Promise<FlakyProxy> {
  const targetUrl = new URL(target);
  const requests: RecordedRequest[] = [];
  let failures: { left: number; status: number | ((request: { method: string; url: string }) => number); matching: Matcher } | undefined;
  let drops: { left: number; matching: Matcher } | undefined;
  let cuts: { left: number; matching: Matcher } | undefined;
  const agent = new http.Agent({ keepAlive: false });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      const record = (outcome: RecordedRequest['outcome']): void => {
        requests.push({ method, url, headers: { ...req.headers }, body, outcome });
      };
      if (drops && drops.left > 0 && drops.matching({ method, url })) {
        drops.left -= 1;
        record('dropped');
        req.socket.destroy();
        return;
      }
      if (failures && failures.left > 0 && failures.matching({ method, url })) {
        failures.left -= 1;
        record('failed');
        const status = typeof failures.status === 'number' ? failures.status : failures.status({ method, url });
        const code = status === 503 ? 'SlowDown' : status === 412 ? 'PreconditionFailed' : status === 404 ? 'NoSuchKey' : 'InternalError';
        res.writeHead(status, { 'content-type': 'application/xml', connection: 'close' });
        // HEAD responses carry no body; the SDK then maps the status alone.
        res.end(
          method === 'HEAD'
            ? undefined
            : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test proxy</Message><RequestId>proxy</RequestId></Error>`,
        );
        return;
      }
      const cut = Boolean(cuts && cuts.left > 0 && cuts.matching({ method, url }));
      if (cut) cuts!.left -= 1;
      record(cut ? 'cut' : 'forwarded');
      const upstream = http.request({ host: targetUrl.hostname, port: targetUrl.port, method, path: url, headers: req.headers, agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!cut) {
          answer.pipe(res);
          return;
        }
        // Headers (with the full Content-Length) and half the body, then the connection dies mid-transfer.
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          const whole = Buffer.concat(parts);
          res.write(whole.subarray(0, Math.floor(whole.length / 2)), () => req.socket.destroy());
        });
      });
      upstream.on('error', () => req.socket.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    failNext(count, options = {}) {
      failures = { left: count, status: options.status ?? 503, matching: options.matching ?? (() => true) };
    },
    dropNext(count, options = {}) {
      drops = { left: count, matching: options.matching ?? (() => true) };
    },
    cutNext(count, options = {}) {
      cuts = { left: count, matching: options.matching ?? (() => true) };
    },
    heal() {
      failures = undefined;
      drops = undefined;
      cuts = undefined;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
