# Sourced by the run, test and check commands: make .venv if needed and install the project,
# reinstalling only when pyproject.toml changes or an extra is asked for that is not there yet.
# Extras add up (`test`, then `check`: both stay), so the commands never reinstall by turns.
ensure_venv() {
  local extras="${1:-}"
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  local venv="$root/.venv"
  local python="${PYTHON:-python3}"
  if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv"
    "$python" -m venv "$venv"
  fi
  # The stamp: pyproject.toml's hash, a dash, then the extras installed (comma-separated).
  local hash stamp have="" missing="" extra wanted spec="."
  hash="$(sha256sum "$root/pyproject.toml" | cut -c1-16)"
  stamp="$(cat "$venv/.installed" 2>/dev/null || true)"
  case "$stamp" in *-*) have="${stamp#*-}" ;; esac
  for extra in ${extras//,/ }; do
    [[ ",$have," == *",$extra,"* ]] || missing=1
  done
  if [ "${stamp%%-*}" != "$hash" ] || [ -n "$missing" ]; then
    wanted="$(printf '%s' "$have,$extras" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)"
    [ -n "$wanted" ] && spec=".[$wanted]"
    echo "== installing Python packages ($spec)"
    "$venv/bin/python" -m pip install -qq --upgrade pip
    (cd "$root" && "$venv/bin/python" -m pip install -qq -e "$spec")
    # PP-OCR: its own requirements name the GUI OpenCV; ours (headless) is already there.
    "$venv/bin/python" -m pip install -qq --no-deps rapidocr-onnxruntime==1.4.4
    echo "$hash-$wanted" > "$venv/.installed"
  fi
  export PATH="$venv/bin:$PATH"
}
