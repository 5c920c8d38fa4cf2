#!/usr/bin/env bash
# Configure, build and install SMR into the project: the smr executable, the C++ tests and the
# QGIS plugin folder $SMR_BUILD_DIR/plugins/smr (with bin/smr), enabled in the project-local QGIS
# profile. Needs the packages scripts/setup.sh installs; it does not install any itself.
#
# To install the plugin into your own QGIS profile instead, see README.md ("Open the sample
# project in QGIS Desktop").
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$SMR_ROOT"

jobs="${SMR_JOBS:-$(nproc 2>/dev/null || echo 2)}"
say "configuring $SMR_BUILD_DIR"
cmake -S "$SMR_ROOT" -B "$SMR_BUILD_DIR" -DSMR_PLUGIN_INSTALL_DIR="$SMR_PLUGINS_DIR" >/dev/null
say "building with $jobs jobs"
cmake --build "$SMR_BUILD_DIR" -j "$jobs"
# A fresh copy, so files removed from the repository do not linger in the installed plugin.
rm -rf "$SMR_PLUGIN_DIR"
cmake --install "$SMR_BUILD_DIR" >/dev/null
[ -x "$SMR_BIN" ] || die "the install did not produce $SMR_BIN"
say "installed the QGIS plugin into $SMR_PLUGIN_DIR ($("$SMR_BIN" --version 2>/dev/null || echo smr))"
smr_enable_plugin
