#!/usr/bin/env bash
# Install what the project needs on a Debian/Ubuntu machine: Debian packages (when root; otherwise print
# the exact apt-get line and stop), the virtualenv in .venv and the pinned Python requirements.
# Usage: scripts/bootstrap.sh demo|test   (the test profile adds the browser, Redis and monitoring tools)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-demo}

need_cmd() { command -v "$1" >/dev/null 2>&1; }
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
need_cmd pg_dump || missing+=(postgresql-client)
need_cmd prometheus-pushgateway || missing+=(prometheus-pushgateway)
need_cmd redis-server || missing+=(redis-server)
need_cmd prometheus || missing+=(prometheus)  # the platform's Prometheus on the local stack (performance_watchdog)
# WeasyPrint (the SLA statements' PDF) loads Pango through ctypes.
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ "$profile" = test ]; then
  need_cmd prometheus-alertmanager || missing+=(prometheus-alertmanager)
  need_cmd docker-compose || missing+=(docker-compose)
  need_cmd pdftotext || missing+=(poppler-utils)
  need_cmd chromium || missing+=(chromium)
  need_cmd chromedriver || missing+=(chromium-driver)
fi
python_bin=${PYTHON:-python3}
"$python_bin" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null || {
  echo "Python 3.11 is required (found: $("$python_bin" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
}
"$python_bin" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # The Debian packages start their own daemons; the project runs its own instances on free ports.
    for svc in prometheus prometheus-pushgateway prometheus-alertmanager redis-server postgresql; do
      (service "$svc" stop >/dev/null 2>&1 || true)
    done
  else
    echo "Missing Debian packages. Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtualenv in .venv"
  "$python_bin" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing Python requirements (pinned in requirements.txt)"
  # (This machine's pip configuration names local package folders that may be absent: not worth a line each.)
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt \
    2> >(grep -v "^WARNING: Location '.*' is ignored" >&2)
  .venv/bin/python -m pip check
  echo "$want" > "$stamp"
fi
