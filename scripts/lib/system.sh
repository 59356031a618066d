# Sourced by the test command and CI: the Debian packages the test suites need, one list
# for both. As root, apt-get installs what is missing; otherwise a missing package stops
# the run at once with the one command that installs them.
#
# usage: ensure_system_packages SUITE...   (SUITE: browser, gstreamer, services)

# Chromium runs the dashboard and the API docs end to end.
SYSTEM_PACKAGES_browser=(chromium)
# GStreamer's rtmp2sink is the second real RTMP publisher the ingest tests use.
SYSTEM_PACKAGES_gstreamer=(gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
                           gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly)
# The services suite's PostgreSQL and Redis on this machine.
SYSTEM_PACKAGES_services=(postgresql redis-server)

system_packages() {
  local suite
  for suite in "$@"; do
    case "$suite" in
      browser) printf '%s\n' "${SYSTEM_PACKAGES_browser[@]}" ;;
      gstreamer) printf '%s\n' "${SYSTEM_PACKAGES_gstreamer[@]}" ;;
      services) printf '%s\n' "${SYSTEM_PACKAGES_services[@]}" ;;
      *) echo "!! unknown test suite: $suite" >&2; return 2 ;;
    esac
  done
}

ensure_system_packages() {
  local packages missing=() package
  packages="$(system_packages "$@")" || return 2
  [ -n "$packages" ] || return 0
  if ! command -v dpkg >/dev/null; then
    echo "!! the test suites need these Debian packages (or their equivalents):" $packages >&2
    echo "!! this is not a Debian system: install them yourself, or skip a suite (scripts/test --help)" >&2
    return 1
  fi
  for package in $packages; do
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ] || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "!! missing Debian packages: ${missing[*]}. Install them with:" >&2
    echo "sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  echo "== installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# PostgreSQL and Redis on 127.0.0.1, started if they do not answer (CI, and the services
# suite on its default URLs).
ensure_local_services() {
  if ! pg_isready -h 127.0.0.1 -q; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "!! PostgreSQL does not answer on 127.0.0.1:5432. Start it with:" >&2
      echo "sudo pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main start" >&2
      return 1
    fi
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  fi
  if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  fi
}
