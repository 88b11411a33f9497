# syntax=docker/dockerfile:1
# Switchyard gateway image. Two stages: `build` installs every dependency, compiles TypeScript to dist/ and prunes the
# dev dependencies; `runtime` copies only dist/, the pruned node_modules and the launcher, and runs as a non-root user.
# Its steps are replayed without Docker by test/packaging/dockerfile-replay.test.ts (build, prune, start, GET /readyz).

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's postinstall would download a CUDA add-on: .npmrc skips it (the CPU binaries ship in the package).
COPY package.json package-lock.json .npmrc ./
# Scripts off: `prepare` would build before the sources are here; the build runs below, once.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ scripts/
COPY gateway/ gateway/
COPY edge-runtime/ edge-runtime/
RUN npm run build
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    SWITCHYARD_CONFIG=/etc/switchyard/gateway.yaml
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules/ node_modules/
COPY --from=build --chown=node:node /app/dist/ dist/
COPY --chown=node:node bin/ bin/
COPY --chown=node:node policies/ policies/
COPY --chown=node:node deploy/docker/gateway.yaml /etc/switchyard/gateway.yaml
# The image's own `node` user (uid 1000); nothing in /app is writable by it except what it owns.
USER node
EXPOSE 8080
# node:*-slim has no curl: Node's fetch asks /readyz (200 only once every configured model has loaded).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/switchyard.mjs"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
