# trailwarden: build with dev dependencies, run with production ones only.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# npm install, not npm ci: see .ci/run (the lock file lacks DuckDB's non-linux-x64 bindings).
RUN npm install --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    TRAILWARDEN_CONFIG=/config/trailwarden.yaml
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY templates ./templates
COPY config ./config
USER node
# Mount your config at /config, your logs wherever it points, and keep the archive/outbox on volumes.
VOLUME ["/config", "/data"]
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["run"]
