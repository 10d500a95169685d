// The container's HEALTHCHECK: exit 0 when the daemon's health endpoint answers 200, 1 otherwise (503, refused,
// timeout). Node itself does the request: the slim image has no curl. TRAILWARDEN_HEALTH_URL overrides the URL
// when daemon.health.port is not the default 8080.
const url = process.env.TRAILWARDEN_HEALTH_URL ?? 'http://127.0.0.1:8080/health';
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  process.exit(response.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
