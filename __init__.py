"""QGIS plugin entry point: QGIS imports this package and calls classFactory."""


def classFactory(iface):  # noqa: N802 (name required by QGIS)
    from .plugin.plugin import SmrPlugin

    return SmrPlugin(iface)
