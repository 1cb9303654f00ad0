# syntax=docker/dockerfile:1
# A media node image: a build stage (the mediasoup worker, the pocketsphinx helper, the
# TypeScript compiled to dist/), then a runtime with only what the node runs, as a non-root user.
#
# BASE and RUNTIME_BASE default to the official Node.js 24 images. Where no registry is
# reachable, give a local Debian bookworm with Node.js 24 for both (docs/deploy.md).
ARG BASE=node:24-bookworm
ARG RUNTIME_BASE=node:24-bookworm-slim

FROM ${BASE} AS build
WORKDIR /app
# Build packages for mediasoup's worker, which is built with the project's patches (the
# build also fetches Debian's libsrtp2 source package with apt-get source), and for the
# streaming recogniser the captions run (src/speech/engines/pocketsphinx-stream.c).
RUN apt-get update \
 && apt-get install -y --no-install-recommends meson ninja-build build-essential pkg-config python3 patch dpkg-dev ca-certificates \
      libuv1-dev libssl-dev flatbuffers-compiler libflatbuffers-dev libabsl-dev libpocketsphinx-dev libsphinxbase-dev \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts ./scripts
# A worker built earlier for this same base (scripts/mediasoup-worker's cache layout), if the
# build context has one: the image tests put the host's there. Usually empty.
COPY .worker-cache /tmp/worker-cache
# MEDIASOUP_WORKER_BIN=skip makes mediasoup's own postinstall stand aside whatever the npm
# version; ensure-worker then takes the cached worker or builds it offline. The image's Node.js 24 runs everything (scripts/runtime fetches none).
RUN MEDIASOUP_WORKER_BIN=skip npm ci --no-audit --no-fund \
 && MEDIASOUP_WORKER_CACHE=/tmp/worker-cache node scripts/mediasoup-worker/ensure-worker.mjs \
 && rm -rf /tmp/worker-cache
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN mkdir -p build \
 && gcc -O2 -o build/pocketsphinx-stream src/speech/engines/pocketsphinx-stream.c $(pkg-config --cflags --libs pocketsphinx sphinxbase) \
 && node_modules/.bin/tsc -p tsconfig.build.json \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/mediasoup/worker/out/Release/obj node_modules/mediasoup/worker/src node_modules/mediasoup/worker/deps node_modules/mediasoup/worker/subprojects

FROM ${RUNTIME_BASE} AS runtime
# The shared libraries the worker links, ffmpeg for recordings, snapshots and captions, and the
# offline speech engines (recognition, translation, voices) with the pocketsphinx helper's library.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 libuv1 libabsl20220623 ffmpeg \
      libpocketsphinx3 libsphinxbase3 pocketsphinx-en-us apertium apertium-eng-spa espeak-ng flite \
 && rm -rf /var/lib/apt/lists/* \
 && (id -u node >/dev/null 2>&1 || (groupadd --gid 1000 node && useradd --uid 1000 --gid node --create-home node))
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/build ./build
COPY config ./config
COPY demo ./demo
COPY console ./console
COPY sdk/package.json ./sdk/package.json
# The browser SDK is bundled from its sources when the node starts (esbuild), with what it imports.
COPY src/client ./src/client
COPY src/contracts ./src/contracts
COPY src/common ./src/common
COPY src/auth ./src/auth
COPY src/config ./src/config
COPY src/tenants ./src/tenants
# Call records, the webhook outbox, recordings and snapshots: the one writable place.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
ENV NODE_ENV=production PORT=8080 MEDIA_WEBRTC_PORT_BASE=44440
# Signaling and HTTP; WebRtcServer ports (one UDP + one TCP per worker); pipe transports between nodes.
EXPOSE 8080/tcp 44440-44447/udp 44440-44447/tcp 45000-45999/udp
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The node is PID 1 and gets SIGTERM itself: it drains (no new rooms, calls go on until they
# end or DRAIN_TIMEOUT_MS passes) and exits.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
