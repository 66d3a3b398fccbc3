# The load balancer image: nginx with the web client's production build (web/dist) baked in.
# docker-compose.yml builds it for the `lb` service; nginx serves the app's files itself and
# passes the API's paths (/graphql, /uploads, /static, /health, /metrics) to api1 and api2.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The build tools only (vite, codegen, typescript): the API's install steps are not needed.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json codegen.ts schema.graphql ./
COPY scripts/build-web.mjs ./scripts/
COPY web ./web
RUN node scripts/build-web.mjs --force

FROM nginx:1.27-alpine
COPY deploy/nginx.conf /etc/nginx/nginx.conf
COPY --from=build /app/web/dist /usr/share/nginx/html
