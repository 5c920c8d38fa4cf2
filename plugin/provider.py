"""The Processing provider "smr": one instance of every algorithm of the plugin."""

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..algorithms import ALGORITHM_CLASSES
from ..algorithms.base import icon_path


class SmrProvider(QgsProcessingProvider):
    def id(self):
        # Public API: algorithm ids are "smr:<name>" in saved models and qgis_process calls.
        return "smr"

    def name(self):
        return self.tr("Soil moisture retrieval")

    def longName(self):  # noqa: N802 (QGIS API name)
        return self.tr("Soil moisture retrieval (SMR)")

    def icon(self):
        return QIcon(icon_path("provider.svg"))

    def svgIconPath(self):  # noqa: N802 (QGIS API name)
        return icon_path("provider.svg")

    def loadAlgorithms(self):  # noqa: N802 (QGIS API name)
        for algorithm_class in ALGORITHM_CLASSES:
            self.addAlgorithm(algorithm_class())

    def tr(self, text):
        return QCoreApplication.translate("SmrProvider", text)
