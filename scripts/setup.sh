#!/usr/bin/env bash
# One-time (and idempotent) set-up on Debian 12: installs the Debian packages SMR needs when any
# is missing, then builds and installs the project (scripts/build.sh). Run as root or as a user
# with sudo. Safe to run again: packages already installed are not touched, the build is
# incremental.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# QGIS 3.22 and its Python bindings; GDAL (library, tools, Python incl. gdal_calc.py); the C++
# toolchain and header-only libraries (Boost for Student's t in correlation p-values); pytest/numpy/matplotlib for the tests and reports;
# GNU time for the benchmark. g++ brings OpenMP (libgomp). xvfb and xauth run QGIS Desktop in
# the Desktop test; dpkg-dev gives CPack the dependencies of the Debian package (dpkg-shlibdeps).
PACKAGES=(
  qgis python3-qgis qgis-providers
  libgdal-dev gdal-bin python3-gdal
  libeigen3-dev catch2 nlohmann-json3-dev libboost-dev
  python3-pytest python3-matplotlib python3-numpy
  cmake g++ make time
  xvfb xauth dpkg-dev file
)

missing=()
for package in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    # -n: fail with a clear message rather than wait for a password nobody can type (CI, no stdin).
    sudo -n true 2>/dev/null \
      || die "installing ${missing[*]} needs root: run 'sudo apt-get install ${missing[*]}', then rerun"
    as_root=(sudo -n)
  else
    die "missing packages (${missing[*]}) and neither root nor sudo: install them, then rerun"
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
else
  say "Debian packages: all present"
fi

[ -x "$QGIS_PROCESS" ] || die "$QGIS_PROCESS is missing although qgis is installed"
"$SMR_PYTHON" -c 'import qgis.core, osgeo.gdal, numpy' 2>/dev/null \
  || die "$SMR_PYTHON cannot import qgis.core, osgeo.gdal and numpy"

if [ "$(id -u)" -eq 0 ] && [ -n "${SUDO_USER:-}" ]; then
  say "warning: running under sudo: build/ and sample_projects/output will belong to root; run the" \
      "scripts as $SUDO_USER (they use sudo themselves only to install packages)"
fi

bash "$SMR_ROOT/scripts/build.sh"
