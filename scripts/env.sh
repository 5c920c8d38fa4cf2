# shellcheck shell=bash
# Sourced by the other scripts: paths and the environment for headless QGIS with the smr plugin.
#
#   SMR_BUILD_DIR   CMake build folder (default: <repo>/build); the plugin is installed into
#                   $SMR_BUILD_DIR/plugins/smr and QGIS uses the profile $SMR_BUILD_DIR/qgis-profile,
#                   so nothing here touches the user's own QGIS profile.
#
# Facts of Debian 12 / QGIS 3.22 that this works around (DESIGN.md §9):
# - /usr/bin/qgis_process is a wrapper that passes --noversioncheck, which qgis_process rejects:
#   we call /usr/bin/qgis_process.bin, the program itself.
# - headless Qt needs QT_QPA_PLATFORM=offscreen and an XDG_RUNTIME_DIR with mode 0700.
# - `python3` on PATH may not be Debian's: QGIS and GDAL Python live in /usr/bin/python3.

SMR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SMR_BUILD_DIR="${SMR_BUILD_DIR:-$SMR_ROOT/build}"
case "$SMR_BUILD_DIR" in /*) ;; *) SMR_BUILD_DIR="$SMR_ROOT/$SMR_BUILD_DIR" ;; esac
SMR_PLUGINS_DIR="$SMR_BUILD_DIR/plugins"
SMR_PLUGIN_DIR="$SMR_PLUGINS_DIR/smr"
SMR_BIN="$SMR_PLUGIN_DIR/bin/smr"
SMR_PYTHON=/usr/bin/python3
QGIS_PROCESS=/usr/bin/qgis_process.bin
export SMR_ROOT SMR_BUILD_DIR SMR_PLUGINS_DIR SMR_PLUGIN_DIR SMR_BIN SMR_PYTHON QGIS_PROCESS

say() { printf '[smr] %s\n' "$*"; }
die() { printf '[smr] error: %s\n' "$*" >&2; exit 1; }

# Environment for headless QGIS (qgis_process.bin, PyQGIS scripts, pytest).
smr_qgis_environment() {
  export QT_QPA_PLATFORM=offscreen
  local runtime="$SMR_BUILD_DIR/xdg-runtime"
  mkdir -p "$runtime" && chmod 0700 "$runtime"
  export XDG_RUNTIME_DIR="$runtime"
  export QGIS_CUSTOM_CONFIG_PATH="$SMR_BUILD_DIR/qgis-profile"
  mkdir -p "$QGIS_CUSTOM_CONFIG_PATH"
  export QGIS_PLUGINPATH="$SMR_PLUGINS_DIR"
  export SMR_EXECUTABLE="$SMR_BIN"
}

# qgis_process only loads a plugin that is enabled in its profile. QGIS 3.22 has
# `qgis_process plugins enable <name>` (it stores [PythonPlugins] smr=true in
# <profile>/profiles/default/QGIS/QGIS3.ini) and exits 1 when the plugin is already enabled.
smr_enable_plugin() {
  smr_qgis_environment
  local listing
  listing="$("$QGIS_PROCESS" plugins 2>/dev/null)" || die "qgis_process.bin plugins failed"
  if grep -Eq '^\* smr$' <<<"$listing"; then
    return 0
  fi
  grep -Eq '^ +smr$' <<<"$listing" \
    || die "QGIS does not see the smr plugin in $SMR_PLUGINS_DIR (run scripts/setup.sh)"
  "$QGIS_PROCESS" plugins enable smr >/dev/null 2>&1 || true
  "$QGIS_PROCESS" plugins 2>/dev/null | grep -Eq '^\* smr$' \
    || die "could not enable the smr plugin in the profile $QGIS_CUSTOM_CONFIG_PATH"
  say "enabled the smr plugin in the project-local QGIS profile $QGIS_CUSTOM_CONFIG_PATH"
}
