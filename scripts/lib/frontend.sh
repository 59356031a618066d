# Sourced by the run and test commands: install the dashboard's npm packages and build it,
# each only when its inputs changed.
ensure_frontend_packages() {
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  local frontend="$root/frontend" stamp
  if ! command -v npm >/dev/null; then
    echo "!! npm not found: install Node.js 20.19+ to build the dashboard" >&2
    return 1
  fi
  stamp="$(sha256sum "$frontend/package-lock.json" | cut -c1-16)"
  if [ "$(cat "$frontend/node_modules/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "== installing npm packages"
    (cd "$frontend" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$stamp" > "$frontend/node_modules/.installed"
  fi
}

ensure_frontend_build() {
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  local frontend="$root/frontend" stamp
  ensure_frontend_packages || return 1
  stamp="$(cd "$frontend" && find src public angular.json package-lock.json tsconfig*.json -type f -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  if [ "$(cat "$frontend/dist/.built" 2>/dev/null)" != "$stamp" ]; then
    echo "== building the dashboard"
    (cd "$frontend" && npx ng build --progress=false >/dev/null)
    echo "$stamp" > "$frontend/dist/.built"
  fi
}
