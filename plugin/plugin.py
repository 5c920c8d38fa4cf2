"""The QGIS plugin class: it only registers and removes the Processing provider."""

from qgis.core import Qgis, QgsApplication

from .provider import SmrProvider


class SmrPlugin:
    def __init__(self, iface):
        self.iface = iface
        self.provider = None

    def initProcessing(self):  # noqa: N802 (QGIS API name)
        # QGIS calls this for plugins with hasProcessingProvider=yes, also in qgis_process where
        # there is no GUI; the desktop calls initGui as well, so register only once.
        if self.provider is None:
            self.provider = SmrProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS API name)
        self.initProcessing()
        problem = self.provider.executable_problem
        if problem and self.iface is not None:
            # Stays until closed: without smr no algorithm can run.
            self.iface.messageBar().pushMessage("SMR", problem, Qgis.Critical, 0)

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
