# The runtime image for flowbook pods: Node 20, ffmpeg, pocketsphinx, and this project built, so a
# pod runs `flowbook step --task-spec …` exactly as a local worker does. The flow's own code is not
# baked in: each task fetches the run's code package from the datastore (content-addressed).
#   docker build -t registry.example.com/flowbook:0.1.0 .
#   export FLOWBOOK_KUBERNETES_IMAGE=registry.example.com/flowbook:0.1.0
# Add your flows' npm dependencies to package.json before building: the image's node_modules is
# what the pod's `import` sees.
FROM node:20-bookworm-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ffmpeg pocketsphinx pocketsphinx-en-us yt-dlp fonts-dejavu-core ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/build-vendor.mjs scripts/
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY bin bin
COPY src src
COPY kernels kernels
COPY cards cards
# danfojs-node is an optional peer (a dev dependency here): the seed flows' DataFrames need it in pods
RUN npm run build && npm prune --omit=dev && npm install --no-save --omit=dev --no-audit --no-fund danfojs-node@^1.2.0

# `flowbook` on PATH: the Job's command is ["flowbook", "step", "--task-spec", "<json>"]
ENV PATH=/app/bin:/app/node_modules/.bin:$PATH \
    NODE_ENV=production \
    FLOWBOOK_CODE_DIR=/app/.flowbook-code
# a non-root user that can write the code-package cache
RUN mkdir -p /app/.flowbook-code && chown -R node:node /app/.flowbook-code
USER node
