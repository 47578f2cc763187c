#!/usr/bin/env bash
# Runs the whole test suite from a fresh Debian 12 / Ubuntu machine with the .NET 10 SDK.
# Installs every program the tests start (a test, TestProgramsTests, checks this list against them):
# the OpenCV runtime's libgtk-3-0, ffmpeg/ffprobe and v4l2-ctl (real clients), gcc (the fake camera),
# clang/lld/aarch64 cross tools and qemu (the Raspberry Pi build), chromium and firefox-esr (the
# viewer page), systemd-analyze (the unit file checks), ustreamer (the peer in chain tests), nginx,
# caddy and haproxy (reverse proxies and the load balancer), nats-server (the bus), python3-h2 (an
# HTTP/2 WebSocket client), iproute2 (network namespaces).
set -euo pipefail
cd "$(dirname "$0")"
source ./scripts/apt-deps.sh
ensure_apt_packages libgtk-3-0 ffmpeg v4l-utils gcc libc6-dev clang lld gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
  qemu-user chromium firefox-esr systemd curl ustreamer nats-server haproxy nginx caddy python3 python3-h2 iproute2 openssl
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
status=0
rm -f TestResults/last.trx
dotnet test VideoEdge.Tests -c Release --logger "console;verbosity=normal" \
  --logger "trx;LogFileName=last.trx" --results-directory TestResults "$@" || status=$?
# The failures again, last, so that a log cut to its tail (CI's) still names every one of them.
if [[ $status -ne 0 && -f TestResults/last.trx ]]; then
  python3 scripts/failed-tests.py TestResults/last.trx
fi
exit $status
