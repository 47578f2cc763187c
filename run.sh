#!/usr/bin/env bash
# Runs VideoEdge from source on its built-in default (the camera at /dev/video0, else a test pattern).
# Installs what it needs first: the OpenCV runtime's system library (libgtk-3-0) and NuGet packages.
# Extra arguments go to the server, e.g. ./run.sh --source /dev/video2 --listen 0.0.0.0:8080
set -euo pipefail
cd "$(dirname "$0")"
source ./scripts/apt-deps.sh
ensure_apt_packages libgtk-3-0
exec dotnet run --project VideoEdge -c Release -- "$@"
