# cloudflare-users-mcp over HTTP, for a team: see DEPLOY.md.
#
#   docker build -t cloudflare-users-mcp .
#   docker run -p 8787:8787 -e MCP_HTTP_BEARER="$(openssl rand -hex 32)" cloudflare-users-mcp
#
# The server binds 0.0.0.0 inside the container, so it requires endpoint auth: MCP_HTTP_BEARER (or
# --bearer-file), and/or Cloudflare Access (CLOUDFLARE_ACCESS_TEAM_DOMAIN + CLOUDFLARE_ACCESS_AUD).
# Without either it exits at once (status 2) and says what to set.

# 1. Build: all dependencies (esbuild, tsx), then `npm run build` bundles src/ and every production package
#    into dist/ (dist/index.js + chunks): the image needs no node_modules at all.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# 2. Run: slim Node 20, the bundled dist/ only: no compiler, no node_modules, not root.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/dist ./dist
# The image's unprivileged user (uid 1000): the server needs no privilege, and no file it can write.
USER node
EXPOSE 8787
# /healthz answers outside auth and the Host check, and says nothing about the setup.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8787/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) drains calls in flight for --shutdown-grace-seconds (default 10), then exits 0.
CMD ["node", "dist/index.js", "--http", "--host", "0.0.0.0"]
