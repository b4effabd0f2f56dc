# The kjournal image (ghcr.io/kjournal/kjournal), used by deploy/.
#   docker build -t ghcr.io/kjournal/kjournal:0.1.0 .
#   docker run --rm ghcr.io/kjournal/kjournal:0.1.0 serve --help
# The build stage compiles src/ and bundles the web page from web/ into dist/web (npm install runs
# the `prepare` script: tsc, then web/build.mjs) and then drops the
# dev dependencies. The runtime stage is the same base image, so the native modules (DuckDB, re2,
# snappy) built or downloaded for it run unchanged.
FROM node:20-slim AS build
# Only needed when a native module has no prebuilt binary and falls back to node-gyp.
RUN apt-get update -qq \
  && apt-get install -y -qq --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY web ./web
RUN npm install --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production
# journalctl, for `kjournal agent --journal` (systemd itself never runs in the container).
RUN apt-get update -qq \
  && apt-get install -y -qq --no-install-recommends systemd \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/web ./dist/web
# The data directory for `docker run -v ...:/var/lib/kjournal`; in Kubernetes a volume replaces it.
RUN mkdir -p /var/lib/kjournal && chown node:node /var/lib/kjournal
# uid/gid 1000 (`node`): deploy/base/statefulset.yaml runs as that user.
USER 1000:1000
EXPOSE 8443
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
