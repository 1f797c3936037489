#!/usr/bin/env bash
# Install what tests/test_report.py needs to drive a real browser: a Chromium
# binary (Debian's package) and Playwright for Python (only its driver is used;
# never `playwright install`, which downloads browsers over the network).
# Idempotent, and never fails the caller: anything it cannot install is reported
# and the browser test then skips or falls back on `chromium --headless`.
set -u

find_chromium() {
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

if path=$(find_chromium); then
  echo "install_browser: Chromium present: $path"
else
  sudo=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
  fi
  if [ "$(id -u)" != "0" ] && [ -z "$sudo" ]; then
    echo "install_browser: no Chromium and no root to install it; the browser test will skip"
  elif ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: no Chromium and no apt-get; the browser test will skip"
  else
    export DEBIAN_FRONTEND=noninteractive
    install() { $sudo apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; }
    if install || { $sudo apt-get update -q >/dev/null 2>&1 && install; }; then
      echo "install_browser: installed $(find_chromium || echo chromium)"
    else
      echo "install_browser: could not install Chromium with apt-get; the browser test will skip"
    fi
  fi
fi

py=${PYTHON:-python3}
if "$py" -c "import playwright.sync_api" >/dev/null 2>&1; then
  echo "install_browser: playwright present"
elif "$py" -m pip install --quiet playwright >/dev/null 2>&1; then
  echo "install_browser: installed playwright (its driver only; the system Chromium is used)"
else
  echo "install_browser: could not pip install playwright; the test falls back on chromium --headless"
fi
exit 0
