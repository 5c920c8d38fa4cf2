"""Enables the SMR plugin of the smr Debian package in each QGIS profile, once.

QGIS 3.22 loads a Python plugin, in the Desktop and in qgis_process, only when the profile's
setting PythonPlugins/<name> is true, and it sets that by default only for its own core plugins.
Both run every startup.py found in the system data folders (here /usr/share/QGIS/QGIS3) when
Python starts, before they load plugins. This sets the default the same way QGIS does for its core
plugins: only when the profile has no value, so a user who disables SMR keeps it disabled.
"""


def _enable_smr_by_default():
    from qgis.core import QgsSettings

    settings = QgsSettings()
    if not settings.contains("PythonPlugins/smr"):
        settings.setValue("PythonPlugins/smr", True)


_enable_smr_by_default()
