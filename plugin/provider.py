"""The Processing provider "smr": one instance of every algorithm of the plugin."""

from qgis.core import Qgis, QgsMessageLog, QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QIcon

from ..algorithms import ALGORITHM_CLASSES
from ..algorithms.base import icon_path
from . import bridge

MESSAGE_LOG_TAG = "SMR"


class SmrProvider(QgsProcessingProvider):
    def __init__(self):
        super().__init__()
        self.executable_problem = None

    def load(self):
        # Once per load, not per run: a missing or mismatched smr is said once in the log (and by
        # the plugin in the message bar); every run then fails with the same message, while the
        # algorithms stay listed so the user sees what they would get.
        self.executable_problem = bridge.check_executable()
        if self.executable_problem:
            QgsMessageLog.logMessage(self.executable_problem, MESSAGE_LOG_TAG, Qgis.Critical)
        return super().load()

    def warningMessage(self):  # noqa: N802 (QGIS API name; the algorithm dialog shows it)
        return self.executable_problem or ""

    def versionInfo(self):  # noqa: N802 (QGIS API name)
        return bridge.plugin_version()

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
