# syntax=docker/dockerfile:1
# xnode's bot/worker image: `xnode bot`, `xnode worker`, `xnode all`, and the
# `xnode check` CLI. Build from the repository root:
#   docker build -t registry.example.com/xnode:0.1.0 .
# The project runs TypeScript through tsx in development; the image runs
# JavaScript compiled by `npm run build` (tsconfig.build.json → dist/), so it
# needs production dependencies only.
# Node 24 LTS, the runtime the tests run on (package.json engines; client-node
# 2.x needs Node >= 22.19).
ARG NODE=node:24-bookworm-slim

FROM ${NODE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies in a stage of their own, so the runtime image gets
# node_modules without npm's cache or the dev tools.
FROM ${NODE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE}
ENV NODE_ENV=production
WORKDIR /app
# package.json carries "type": "module", which dist/*.js need.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The image's `node` user, by number so the kubelet can verify runAsNonRoot.
USER 1000:1000
ENTRYPOINT ["node", "--enable-source-maps", "/app/dist/main.js"]
CMD ["help"]
