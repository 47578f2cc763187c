#!/usr/bin/env bash
# Runs the whole test suite from a fresh Debian 12 / Ubuntu machine with the .NET 10 SDK.
# Installs what the tests drive first: the OpenCV runtime's libgtk-3-0, ffmpeg/ffprobe and v4l2-ctl
# (real clients), gcc (the fake camera), clang/lld/aarch64 cross tools and qemu (the Raspberry Pi
# build), chromium (the viewer page), systemd-analyze (the unit file checks), python3 (a test
# program for exec: sources).
set -euo pipefail
cd "$(dirname "$0")"
source ./scripts/apt-deps.sh
ensure_apt_packages libgtk-3-0 ffmpeg v4l-utils gcc libc6-dev clang lld gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
  qemu-user chromium systemd curl python3
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
exec dotnet test VideoEdge.Tests -c Release --logger "console;verbosity=normal" "$@"
