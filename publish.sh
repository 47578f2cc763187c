#!/usr/bin/env bash
# Builds VideoEdge as one Native AOT binary per platform, and installs it as a systemd service.
#
#   ./publish.sh [linux-x64|linux-arm64|all]   build dist/<rid>/ (default: this machine's platform)
#   sudo ./publish.sh --install [rid]          install dist/<rid>/ (or this folder, when it is one)
#   sudo ./publish.sh --uninstall              remove it again; /etc/default/video-edge is kept
#
# Environment:
#   OPENCV_NATIVE=/path/libOpenCvSharpExtern.so   OpenCV runtime to ship with a linux-arm64 build
#   DIST=dir        where dist/<rid>/ goes            (default: dist/ beside this script)
#   BUILD_DIR=dir   intermediate files of the build   (default: artifacts/publish/ beside this script)
#   DESTDIR=dir     install under this root instead of / (packaging, tests); systemctl is not run
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dist="${DIST:-$here/dist}"
build="${BUILD_DIR:-$here/artifacts/publish}"
destdir="${DESTDIR:-}"
install_dir=/opt/video-edge
unit_path=/etc/systemd/system/video-edge.service
defaults_path=/etc/default/video-edge
config_path=/etc/video-edge/config.json
opencv_lib=libOpenCvSharpExtern.so

die() {
    echo "publish.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

host_rid() {
    case "$(uname -m)" in
        x86_64 | amd64) echo linux-x64 ;;
        aarch64 | arm64) echo linux-arm64 ;;
        *) die "this is a $(uname -m) system; VideoEdge builds for linux-x64 and linux-arm64 (on a Raspberry Pi, use the 64-bit Raspberry Pi OS)" ;;
    esac
}

# GNU triple of a RID, as in the names of cross compilers (aarch64-linux-gnu-gcc).
triple() {
    case "$1" in
        linux-x64) echo x86_64-linux-gnu ;;
        linux-arm64) echo aarch64-linux-gnu ;;
    esac
}

# The RID an ELF file was built for, from its e_machine field (offset 18).
elf_rid() {
    case "$(od -An -tx1 -j18 -N2 "$1" 2>/dev/null | tr -d ' \n')" in
        3e00) echo linux-x64 ;;
        b700) echo linux-arm64 ;;
        *) echo unknown ;;
    esac
}

human_size() {
    awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MB (%d bytes)", b / 1048576, b }'
}

# Stops with the exact apt-get line when a tool the build needs is missing.
check_prerequisites() {
    local rid="$1" missing=()
    if ! command -v dotnet >/dev/null || ! dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; then
        die "the .NET 10 SDK is needed to build (dotnet --list-sdks shows none).
  On Debian/Ubuntu x64: add Microsoft's package repository, then: sudo apt-get install dotnet-sdk-10.0
  Anywhere (also on a Raspberry Pi): curl -sSL https://dot.net/v1/dotnet-install.sh | bash -s -- --channel 10.0
  Or build on a PC and copy dist/linux-arm64/ to the board: it needs no SDK to install."
    fi
    command -v clang >/dev/null || missing+=(clang)
    if [[ "$rid" != "$(host_rid)" ]]; then
        local t
        t="$(triple "$rid")"
        command -v ld.lld >/dev/null || missing+=(lld)
        command -v "$t-gcc" >/dev/null || missing+=("gcc-${t//_/-}")
        command -v "$t-objcopy" >/dev/null || missing+=("binutils-${t//_/-}")
    fi
    if ((${#missing[@]})); then
        die "building for $rid needs ${missing[*]}. Install with:
  sudo apt-get install ${missing[*]}"
    fi
}

# The OpenCvSharp4 version the project uses; a native runtime must match it.
opencv_version() {
    sed -n 's/.*Include="OpenCvSharp4" Version="\([^"]*\)".*/\1/p' "$here/VideoEdge/VideoEdge.csproj"
}

# A NuGet package with OpenCV for this RID and our OpenCvSharp4 version, if the package source has one.
opencv_package() {
    local rid="$1" version pkg
    version="$(opencv_version)"
    for pkg in "OpenCvSharp4.official.runtime.$rid" "OpenCvSharp4.runtime.$rid"; do
        if dotnet package search "$pkg" --exact-match --format json 2>/dev/null | grep -q "\"version\": \"$version\""; then
            echo "$pkg"
            return
        fi
    done
}

publish() {
    local rid="$1" stage out opencv_note args pkg
    [[ -f "$here/VideoEdge/VideoEdge.csproj" ]] || die "this folder holds a finished build, not the source: install it with sudo ./publish.sh --install"
    check_prerequisites "$rid"
    stage="$build/stage/$rid"
    out="$dist/$rid"
    rm -rf "$stage"
    args=(-c Release -r "$rid" --artifacts-path "$build" -o "$stage" -warnaserror --nologo)
    if [[ "$rid" != "$(host_rid)" ]]; then
        # Cross-linking: clang targets the other architecture, lld links it, and the cross
        # binutils strip it. Debian's cross gcc packages provide the libraries, so no sysroot.
        args+=(-p:CppCompilerAndLinker=clang -p:LinkerFlavor=lld "-p:ObjCopyName=$(triple "$rid")-objcopy")
    fi

    opencv_note=""
    if [[ "$rid" != linux-x64 ]]; then
        if [[ -n "${OPENCV_NATIVE:-}" ]]; then
            [[ -f "$OPENCV_NATIVE" ]] || die "OPENCV_NATIVE=$OPENCV_NATIVE: no such file"
            [[ "$(elf_rid "$OPENCV_NATIVE")" == "$rid" ]] || die "OPENCV_NATIVE=$OPENCV_NATIVE is not a $rid library"
        else
            pkg="$(opencv_package "$rid")"
            if [[ -n "$pkg" ]]; then
                args+=("-p:OpenCvRuntimePackage=$pkg")
            else
                opencv_note="no OpenCV runtime for $rid (OpenCvSharp4 $(opencv_version)) on the package source, and OPENCV_NATIVE is not set.
  The binary still serves MJPEG cameras (the usual USB webcam) without it; the test pattern,
  YUYV-only cameras, files and network streams need OpenCV. To include it, build with
  OPENCV_NATIVE=/path/to/$opencv_lib (built for $rid against OpenCvSharp4 $(opencv_version))."
            fi
        fi
    fi

    echo "publish.sh: building $rid"
    dotnet publish "$here/VideoEdge/VideoEdge.csproj" "${args[@]}"

    rm -rf "$out"
    mkdir -p "$out"
    cp "$stage/video-edge" "$out/"
    if [[ -n "${OPENCV_NATIVE:-}" && "$rid" != linux-x64 ]]; then
        cp "$OPENCV_NATIVE" "$out/$opencv_lib"
    elif [[ -f "$stage/$opencv_lib" ]]; then
        cp "$stage/$opencv_lib" "$out/"
    fi
    # Everything --install needs travels with the binary, so dist/<rid>/ can be copied to the board.
    cp "$here/edge.service" "$here/packaging/video-edge.default" "$here/packaging/config.json" "$out/"
    cp "${BASH_SOURCE[0]}" "$out/publish.sh"

    echo
    echo "publish.sh: $out/video-edge: $(human_size "$out/video-edge")"
    if [[ -f "$out/$opencv_lib" ]]; then
        echo "publish.sh: $out/$opencv_lib: $(human_size "$out/$opencv_lib") (needs: apt-get install libgtk-3-0)"
    else
        echo "publish.sh: built without OpenCV: $opencv_note"
    fi
}

# dist/<rid>/ of this machine, or the folder this script is in when it is such a folder.
install_source() {
    local rid="${1:-$(host_rid)}"
    if [[ -f "$here/video-edge" ]]; then
        echo "$here"
    elif [[ -f "$dist/$rid/video-edge" ]]; then
        echo "$dist/$rid"
    else
        die "there is no $dist/$rid/video-edge yet: build it first (as your own user, not root): ./publish.sh $rid"
    fi
}

systemd_running() {
    [[ -z "$destdir" && -d /run/systemd/system ]]
}

require_root() {
    if [[ -z "$destdir" && "$(id -u)" -ne 0 ]]; then
        die "installing needs root: sudo $0 $*"
    fi
}

install_service() {
    local src
    require_root --install "$@"
    src="$(install_source "$@")"
    if [[ -z "$destdir" && "$(elf_rid "$src/video-edge")" != "$(host_rid)" ]]; then
        die "$src/video-edge is built for $(elf_rid "$src/video-edge"), this machine is $(host_rid)"
    fi

    install -d -m 0755 "$destdir$install_dir"
    install -m 0755 "$src/video-edge" "$destdir$install_dir/video-edge"
    if [[ -f "$src/$opencv_lib" ]]; then
        install -m 0644 "$src/$opencv_lib" "$destdir$install_dir/$opencv_lib"
    else
        # The installed folder matches the build: an OpenCV left from an older install would
        # not match this binary's OpenCvSharp.
        rm -f "$destdir$install_dir/$opencv_lib"
    fi
    install -D -m 0644 "$src/edge.service" "$destdir$unit_path"
    if [[ -e "$destdir$defaults_path" ]]; then
        echo "publish.sh: kept your settings in $destdir$defaults_path"
    else
        install -D -m 0600 "$src/video-edge.default" "$destdir$defaults_path"
        echo "publish.sh: settings: $destdir$defaults_path"
    fi
    # Read by the service's (dynamic) user, so readable by all: secrets belong in $defaults_path.
    if [[ -e "$destdir$config_path" ]]; then
        echo "publish.sh: kept your configuration in $destdir$config_path"
    else
        install -D -m 0644 "$src/config.json" "$destdir$config_path"
        echo "publish.sh: configuration file (all commented out): $destdir$config_path"
    fi
    echo "publish.sh: installed $destdir$install_dir/video-edge and $destdir$unit_path"
    if [[ ! -f "$src/$opencv_lib" ]]; then
        echo "publish.sh: without OpenCV: MJPEG cameras work; the test pattern, YUYV-only cameras, files and streams do not"
    fi

    if systemd_running; then
        getent group video >/dev/null || echo "publish.sh: warning: there is no group 'video'; the service will not be able to open cameras"
        ldconfig -p 2>/dev/null | grep -qE 'libssl\.so\.(3|1\.1) ' ||
            echo "publish.sh: warning: OpenSSL is not installed; passwords, tokens and TLS need it: sudo apt-get install libssl3"
        systemctl daemon-reload
        if systemctl is-active --quiet video-edge.service; then
            echo "publish.sh: video-edge is running the old binary; restart it: sudo systemctl restart video-edge"
        fi
    elif [[ -z "$destdir" ]]; then
        echo "publish.sh: systemd is not running here; the unit is installed but not loaded"
    fi
    echo
    echo "Next:"
    echo "  sudo systemctl enable --now video-edge"
    echo "  curl -o snap.jpg http://localhost:8080/snapshot.jpg"
}

uninstall_service() {
    require_root --uninstall
    if systemd_running; then
        systemctl disable --now video-edge.service 2>/dev/null || true
    fi
    rm -f "$destdir$unit_path" "$destdir$install_dir/video-edge" "$destdir$install_dir/$opencv_lib"
    if [[ -d "$destdir$install_dir" ]] && ! rmdir "$destdir$install_dir" 2>/dev/null; then
        echo "publish.sh: left $destdir$install_dir: it holds files VideoEdge did not put there"
    fi
    if systemd_running; then
        systemctl daemon-reload
    fi
    echo "publish.sh: removed video-edge"
    if [[ -e "$destdir$config_path" ]]; then
        echo "publish.sh: kept your configuration in $destdir$config_path (delete it if you no longer need it)"
    fi
    if [[ -e "$destdir$defaults_path" ]]; then
        echo "publish.sh: kept your settings in $destdir$defaults_path (delete it if you no longer need it)"
    fi
}

case "${1:-}" in
    -h | --help) usage ;;
    --install) shift; install_service "$@" ;;
    --uninstall) uninstall_service ;;
    "") publish "$(host_rid)" ;;
    all) publish linux-x64; publish linux-arm64 ;;
    linux-x64 | linux-arm64) publish "$1" ;;
    *) usage >&2; exit 2 ;;
esac
