# syntax=docker/dockerfile:1
# A media node image: build stage (worker + dependencies), then a slim, non-root runtime.

FROM node:24-bookworm AS build
WORKDIR /app
# Build packages for mediasoup's worker, in case its prebuilt binary cannot be downloaded
# (the build also fetches Debian's libsrtp2 source package with apt-get source).
RUN apt-get update \
 && apt-get install -y --no-install-recommends meson ninja-build build-essential pkg-config python3 patch \
      libuv1-dev libssl-dev flatbuffers-compiler libflatbuffers-dev libabsl-dev \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts ./scripts
# MEDIASOUP_WORKER_BIN makes mediasoup's own postinstall stand aside whatever the npm
# version; ensure-worker then fetches the official prebuilt worker, or builds it offline.
# The image's Node.js 24 is the runtime (scripts/runtime/ensure-node.mjs sees it and fetches none).
RUN MEDIASOUP_WORKER_BIN=skip npm ci --omit=dev --no-audit --no-fund \
 && node scripts/mediasoup-worker/ensure-worker.mjs
COPY tsconfig.json ./
COPY config ./config
COPY demo ./demo
COPY src ./src
# The streaming recogniser the captions run (src/speech/engines/pocketsphinx-stream.c).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpocketsphinx-dev libsphinxbase-dev gcc pkg-config \
 && mkdir -p build \
 && gcc -O2 -o build/pocketsphinx-stream src/speech/engines/pocketsphinx-stream.c $(pkg-config --cflags --libs pocketsphinx sphinxbase) \
 && rm -rf /var/lib/apt/lists/*

FROM node:24-bookworm-slim AS runtime
# The shared libraries the worker links, ffmpeg for recordings, snapshots and captions, and the
# offline speech engines (recognition, translation, voices) with the pocketsphinx helper's library.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 libuv1 libabsl20220623 ffmpeg \
      libpocketsphinx3 pocketsphinx-en-us apertium apertium-eng-spa espeak-ng flite \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build --chown=root:root /app /app
# Call records, the webhook outbox, recordings and snapshots: the one writable place.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
ENV NODE_ENV=production PORT=8080 MEDIA_WEBRTC_PORT_BASE=44440
# Signaling and HTTP; WebRtcServer ports (one UDP + one TCP per worker); pipe transports between nodes.
EXPOSE 8080/tcp 44440-44447/udp 44440-44447/tcp 45000-45999/udp
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains: no new rooms, calls continue until they end or DRAIN_TIMEOUT_MS passes.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "src/main.ts"]
