# trailwarden: build with dev dependencies, run with production ones only.
# The runtime tree is assembled by scripts/assemble-runtime.sh — the same script the container test runs.

FROM node:22-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before src/ is here; the build is its own step below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
COPY bin ./bin
COPY templates ./templates
COPY config ./config
COPY scripts ./scripts

FROM node:22-bookworm-slim AS runtime-tree
COPY --from=build /build /build
RUN sh /build/scripts/assemble-runtime.sh /build /app && npm cache clean --force

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    TRAILWARDEN_CONFIG=/app/config/container.yaml
WORKDIR /app
COPY --from=runtime-tree /app /app
# /config: your configuration (optional); /data: logs, archive, outbox, state and the columnar store (see config/container.yaml).
RUN mkdir -p /config /data/logs /data/archive /data/outbox /data/state /data/store && chown -R node:node /config /data
USER node
VOLUME ["/config", "/data"]
# The daemon's health endpoint (daemon.health, loopback:8080 by default); node does the request, slim has no curl.
# Set TRAILWARDEN_HEALTH_URL when you change daemon.health.port.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 CMD ["node", "/app/scripts/healthcheck.mjs"]
ENTRYPOINT ["node", "/app/bin/trailwarden.js"]
# The long-running scheduler; for one-shot runs (Kubernetes CronJob…): `run --job <name>`.
CMD ["daemon"]
