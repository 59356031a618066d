# syntax=docker/dockerfile:1.7
# The dashboard, built once and served by nginx, which also proxies the API, the
# WebSockets and HLS to the web service.

FROM node:20.19.6-bookworm-slim AS build
WORKDIR /src
COPY frontend/package.json frontend/package-lock.json ./
# npm's cache is a BuildKit cache mount, kept between builds, not in the image.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY frontend ./
RUN npx ng build --progress=false

FROM nginxinc/nginx-unprivileged:1.27.5-alpine AS runtime
COPY docker/nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=build /src/dist/frontend/browser /usr/share/nginx/html
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]
