import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthReport } from './plan.js';

export interface HealthServer {
  /** `http://host:port/health`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `GET /health`: 200 with every job's last run, last result and next run as JSON while all is well, 503 with
 * the same body (each problem in words) when a job's last run failed, a job is overdue, or a root alert's
 * watermark is ahead of the clock or behind it (see plan.ts). Nothing else is served.
 */
export async function startHealthServer(options: { host: string; port: number; report: () => HealthReport }): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (pathname !== '/health' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try GET /health\n');
      return;
    }
    const report = options.report();
    const body = `${JSON.stringify(report, null, 2)}\n`;
    response.writeHead(report.healthy ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/health`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
