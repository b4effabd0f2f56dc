# The kjournal image (ghcr.io/kjournal/kjournal), used by deploy/ and by `docker run` (README.md,
# "In a container"):
#   docker build -t ghcr.io/kjournal/kjournal:0.1.0 .
#   docker run --rm ghcr.io/kjournal/kjournal:0.1.0 serve --help
#
# The base image cannot be pulled on the development machines nor in CI (no registry but npm's and
# Debian's, no Docker daemon), so `docker build` itself is not run there. What can be checked without
# it is, by test/deploy/dockerfile.test.ts: every COPY source exists and survives .dockerignore, the
# entrypoint is what the build produces, every apt package exists in Debian 12, the Node major and
# npm version, `npm ci`, the non-root user, the port of deploy/, and the README's `docker run`
# command started against a local build. The journalctl step below was run in a Debian 12 minbase
# chroot (debootstrap), where journalctl then read a journal directory.
#
# Debian 12 (bookworm) is named, not left to the `node:20-slim` tag: it is the Debian of the
# development machines, whose package lists the test checks the apt packages against.
FROM node:20-bookworm-slim AS build
# python3, make and g++: node-gyp, for re2 when its prebuilt binary cannot be downloaded.
RUN apt-get update -qq \
  && apt-get install -y -qq --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# npm 11, as on the development machines: it honours package.json "allowScripts" (re2, protobufjs
# and fs-ext run their install scripts; esbuild and msgpackr-extract do not), which the npm 10 of
# node:20 ignores.
ARG NPM_VERSION=11.19.1
RUN npm install -g "npm@${NPM_VERSION}" --no-audit --no-fund
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY web ./web
# `npm ci` installs exactly the lock file (and fails if package.json disagrees with it), then runs
# `prepare`: tsc to dist/src, and web/build.mjs to dist/web. The dev dependencies (tsc, esbuild,
# biome, the test clients) are needed for that and dropped after it.
RUN npm ci --no-audit --no-fund \
  && npm prune --omit=dev --no-audit --no-fund \
  && test -f dist/src/cli/main.js && test -f dist/web/index.html

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# `kjournal serve` keeps its data here unless --data says otherwise (mount a volume on it).
ENV KJOURNAL_DATA=/var/lib/kjournal
# journalctl, for `kjournal agent --journal`, without the whole systemd package (no Debian package
# carries journalctl alone): the library it links (libsystemd-shared, with the libraries that one
# needs), and the one 76 KB binary taken from the systemd package of exactly the same version. The
# systemd package would add 9.7 MB more and libcryptsetup, libfdisk, libdevmapper, dmsetup, ...
# Measured in a Debian 12 minbase (debootstrap): 25 MB added by systemd, 12 MB by this.
RUN apt-get update -qq \
  && apt-get install -y -qq --no-install-recommends libsystemd-shared \
  && mkdir /tmp/systemd && chown _apt /tmp/systemd && cd /tmp/systemd \
  && apt-get download -qq "systemd=$(dpkg-query -W -f='${Version}' libsystemd-shared)" \
  && dpkg-deb --fsys-tarfile systemd_*.deb | tar -x --wildcards '*bin/journalctl' \
  && install -m 0755 "$(find . -name journalctl -type f)" /usr/bin/journalctl \
  && cd / && rm -rf /tmp/systemd /var/lib/apt/lists/* \
  && journalctl --version
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/web ./dist/web
# The data directory for `docker run -v ...:/var/lib/kjournal`; in Kubernetes a volume replaces it.
RUN mkdir -p /var/lib/kjournal && chown node:node /var/lib/kjournal
# uid/gid 1000 (`node`): deploy/base/statefulset.yaml runs as that user.
USER 1000:1000
# The server's port in deploy/ (`--listen 0.0.0.0:8443`); `serve` itself defaults to 127.0.0.1:3100,
# which no one outside the container reaches, so give --listen (README.md, "In a container").
EXPOSE 8443
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
