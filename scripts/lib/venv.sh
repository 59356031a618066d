# Sourced by the run and test commands: make .venv if needed and install the project,
# reinstalling only when pyproject.toml or the requested extras change.
ensure_venv() {
  local extras="${1:-}"
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  local venv="$root/.venv"
  local python="${PYTHON:-python3}"
  if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv"
    "$python" -m venv "$venv"
  fi
  local spec="." stamp
  [ -n "$extras" ] && spec=".[$extras]"
  stamp="$(sha256sum "$root/pyproject.toml" | cut -c1-16)-$extras"
  if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$stamp" ]; then
    echo "== installing Python packages ($spec)"
    "$venv/bin/python" -m pip install -qq --upgrade pip
    (cd "$root" && "$venv/bin/python" -m pip install -qq -e "$spec")
    # PP-OCR: its own requirements name the GUI OpenCV; ours (headless) is already there.
    "$venv/bin/python" -m pip install -qq --no-deps rapidocr-onnxruntime==1.4.4
    echo "$stamp" > "$venv/.installed"
  fi
  export PATH="$venv/bin:$PATH"
}
