# Sourced by scripts/run, scripts/test and .ci/run: make sure .venv exists and holds exactly the
# pinned requirements. Reinstalls only when a requirements file changed (a stamp file remembers).
set -euo pipefail
PYTHON_BIN=${PYTHON:-python3}
REQUIREMENTS=${1:-requirements.txt}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $($PYTHON_BIN --version)"
  "$PYTHON_BIN" -m venv .venv
fi
stamp=".venv/.installed-$(basename "$REQUIREMENTS")"
wanted=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "==> installing $REQUIREMENTS into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  echo "$wanted" > "$stamp"
fi
