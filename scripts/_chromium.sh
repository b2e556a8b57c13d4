# Sourced by scripts/test: the browser tests need Debian's Chromium (never a downloaded browser).
# Installed here when missing and this user can (root with apt-get); otherwise those tests skip.
if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Chromium and CJK fonts from Debian's packages (browser tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
  else
    echo "==> no Chromium: browser tests will be skipped (apt-get install chromium)"
  fi
fi
