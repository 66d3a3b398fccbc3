# The API as one container: `docker compose up` runs two of them behind deploy/nginx.conf.
FROM node:22-slim

WORKDIR /app

# Dependencies first, for the layer cache. npm ci runs the project's postinstall: patch-package
# applies patches/ (werift's per-packet hot paths, docs/VOICE.md), then scripts/generate.mjs -> prisma
# generate, which needs the Prisma schema and config; its build step waits for the sources (below).
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts ./scripts
COPY patches ./patches
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json tsconfig.build.json schema.graphql ./
COPY src ./src

# Type-checks (a type error fails the image build), compiles src/ to dist/ and makes the
# pre-migrated embedded database template (scripts/build.mjs).
RUN npm run build

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
EXPOSE 4000
RUN mkdir -p /app/data/uploads && chown -R node:node /app/data
USER node

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:4000/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

# What npm start runs once dist/ is current, without npm in between: node is PID 1 and gets
# SIGTERM itself for a graceful shutdown.
CMD ["node", "dist/index.js"]
