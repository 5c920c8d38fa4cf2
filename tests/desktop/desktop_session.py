"""What a user does in QGIS Desktop with SMR, run inside QGIS by test_desktop.py (`qgis --code`).

QGIS executes this file once its window, plugins and Processing are up; `iface` is the real
QgisInterface. Each step runs from the event loop (QTimer), so windows paint, dialogs show and
background tasks finish between steps. The steps:

  1. the Processing toolbox lists every algorithm of the smr provider (screenshot, expanded);
  2. a sample model opens in the Graphical Modeler and Model ▸ Validate Model says it is valid
     (screenshot);
  3. the dialog of smr:applymodel opens with its help (screenshot), is filled in and run from its
     Run button; Processing loads the output, whose renderer is recorded; the map canvas shows it
     (screenshot);
  4. the output GeoTIFF, and the sample scene's truth soil moisture when there is one, are loaded
     from disk as a user drags them in, and their renderers are recorded.

Everything found goes into a JSON file for the test to assert on; the script then quits QGIS.
Inputs come from environment variables (SMR_DESKTOP_*) set by the test.
"""

import json
import os
import sys
import time
import traceback
from pathlib import Path

from qgis.core import QgsApplication, QgsProject, QgsRasterLayer
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QSize, Qt, QTimer
from qgis.PyQt.QtWidgets import QAbstractItemView, QAction, QApplication, QTextBrowser, QTextEdit
from qgis.utils import iface, plugins

RESULT = Path(os.environ["SMR_DESKTOP_RESULT"])
SCREENSHOTS = Path(os.environ["SMR_DESKTOP_SCREENSHOTS"])
SAMPLE_MODEL = Path(os.environ["SMR_DESKTOP_MODEL"])
NETWORK = os.environ["SMR_DESKTOP_NETWORK"]
INPUT_RASTERS = json.loads(os.environ["SMR_DESKTOP_INPUTS"])
OUTPUT = os.environ["SMR_DESKTOP_OUTPUT"]
DISK_RASTERS = json.loads(os.environ.get("SMR_DESKTOP_DISK_RASTERS", "{}"))
# Below the test's own timeout, so that a hang still leaves a JSON saying where it hung.
WATCHDOG_S = float(os.environ.get("SMR_DESKTOP_WATCHDOG_S", "150"))

ALGORITHM = "smr:applymodel"
POLL_MS = 200

result = {"steps": [], "errors": [], "python_errors": [], "screenshots": {}}
_state = {"step": "start-up", "started": time.monotonic()}
_keep = []  # Python wrappers of windows that must outlive the step that opened them


def _record_python_errors():
    """Python errors anywhere in QGIS (the plugin's code run by Processing, a style applied on
    load) only show in QGIS's message bar: record them too, for the test to fail on."""
    import qgis.utils

    show_exception = qgis.utils.showException

    def record(type_, value, tb, msg, *args, **kwargs):
        result["python_errors"].append(
            f"{_state['step']}: " + "".join(traceback.format_exception(type_, value, tb)))
        return show_exception(type_, value, tb, msg, *args, **kwargs)

    qgis.utils.showException = record


def _write_result():
    result["seconds"] = round(time.monotonic() - _state["started"], 1)
    RESULT.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")


def _quit():
    _write_result()
    # A modified project would make QGIS ask whether to save it, and wait for an answer.
    QgsProject.instance().clear()
    QgsProject.instance().setDirty(False)
    # Delete the dialogs before QGIS exits (closing only hides them): QGIS 3.22 aborts at exit
    # ("double free or corruption") when an algorithm dialog that has run outlives the data
    # providers, with native algorithms too. The exit waits for the deferred deletes.
    for window in _keep:
        if not sip.isdeleted(window):
            window.close()
            window.deleteLater()
    _keep.clear()
    QTimer.singleShot(200, iface.actionExit().trigger)


def _fail(message):
    result["errors"].append(f"{_state['step']}: {message}")
    _quit()


def _step(name, function):
    """Run FUNCTION as step NAME from the event loop; an exception ends the session."""
    def run():
        _state["step"] = name
        result["current_step"] = name
        _write_result()  # if QGIS hangs in this step, the test can still say which one
        try:
            function()
        except Exception:  # noqa: BLE001 (reported in the JSON, never lost in QGIS's log)
            _fail(traceback.format_exc())
    QTimer.singleShot(0, run)


def _wait_for(condition, then, timeout_s, what):
    """Poll CONDITION from the event loop, then run THEN; fail the session after TIMEOUT_S."""
    deadline = time.monotonic() + timeout_s

    def poll():
        try:
            if condition():
                then()
            elif time.monotonic() > deadline:
                _fail(f"timed out after {timeout_s} s waiting for {what}")
            else:
                QTimer.singleShot(POLL_MS, poll)
        except Exception:  # noqa: BLE001
            _fail(traceback.format_exc())
    QTimer.singleShot(POLL_MS, poll)


def _settle(milliseconds=300):
    """Let Qt lay out and paint what was just shown before it is grabbed."""
    end = time.monotonic() + milliseconds / 1000.0
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.02)


def _screenshot(name, widget):
    _settle()
    path = SCREENSHOTS / f"{name}.png"
    pixmap = widget.grab()
    if not pixmap.save(str(path)):
        raise RuntimeError(f"cannot save the screenshot {path}")
    result["screenshots"][name] = {"path": str(path), "width": pixmap.width(),
                                   "height": pixmap.height()}


def _watchdog():
    """A modal window nobody answers would hang QGIS: say which step and what window it was."""
    modal = QApplication.activeModalWidget()
    description = f"{type(modal).__name__} '{modal.windowTitle()}'" if modal else "none"
    result["errors"].append(
        f"{_state['step']}: still running after {WATCHDOG_S} s (modal window: {description})")
    try:
        _screenshot("hang", modal or iface.mainWindow())
    finally:
        _write_result()
        os._exit(3)  # the event loop may be blocked by the modal window: no clean exit


# --- 1. the Processing toolbox ------------------------------------------------------------------

def _tree_indexes(model, parent):
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        yield index
        yield from _tree_indexes(model, index)


def check_toolbox():
    provider = QgsApplication.processingRegistry().providerById("smr")
    result["provider"] = None if provider is None else {
        "name": provider.name(),
        # Where QGIS found the plugin: the package's folder, not a developer copy.
        "plugin_folder": str(Path(sys.modules[type(provider).__module__].__file__).parents[1]),
        "algorithms": sorted(algorithm.id() for algorithm in provider.algorithms()),
    }
    if provider is None:
        _fail("the smr Processing provider is not registered: the plugin did not load")
        return
    toolbox = plugins["processing"].toolbox
    toolbox.setUserVisible(True)
    iface.mainWindow().resizeDocks([toolbox], [520], Qt.Horizontal)
    tree = toolbox.algorithmTree
    model = tree.model()
    listed = set()
    provider_index = None
    for index in _tree_indexes(model, tree.rootIndex()):
        algorithm = tree.algorithmForIndex(index)
        if algorithm is not None and algorithm.provider() is not None \
                and algorithm.provider().id() == "smr":
            listed.add(algorithm.id())
            # The provider's node, not the "Recently used" group that may list some of them too.
            top = index
            while top.parent().isValid():
                top = top.parent()
            if top.data(Qt.DisplayRole) == provider.name():
                provider_index = top
    result["toolbox_algorithms"] = sorted(listed)
    result["toolbox_provider_node"] = provider_index is not None
    tree.collapseAll()
    if provider_index is not None:
        tree.expand(provider_index)
        for index in _tree_indexes(model, provider_index):
            tree.expand(index)
        tree.scrollTo(provider_index, QAbstractItemView.PositionAtTop)
    _screenshot("toolbox", toolbox)
    result["steps"].append("toolbox")
    _step("modeler", open_model)


# --- 2. a sample model in the Graphical Modeler -------------------------------------------------

def open_model():
    from processing.modeler.ModelerDialog import ModelerDialog

    dialog = ModelerDialog.create()
    _keep.append(dialog)
    dialog.loadModel(str(SAMPLE_MODEL))
    dialog.resize(QSize(1500, 900))
    dialog.show()
    model = dialog.model()
    result["model"] = {
        "name": model.name(),
        "children": sorted(model.childAlgorithms().keys()),
        "unresolved_children": sorted(
            child_id for child_id, child in model.childAlgorithms().items()
            if child.algorithm() is None),
    }
    actions = {action.objectName(): action for action in dialog.findChildren(QAction)}
    actions["mActionZoomToItems"].trigger()
    # Model ▸ Validate Model: the message bar says "Model is valid!" or lists the issues.
    actions["mActionValidate"].trigger()
    item = dialog.messageBar().currentItem()
    result["model"]["validate_message"] = None if item is None else item.text()
    valid, issues = model.validate()
    result["model"]["valid"] = valid
    result["model"]["issues"] = issues
    _screenshot("modeler", dialog)
    dialog.setDirty(False)  # nothing to save: close without the "save changes?" question
    dialog.close()  # the Modeler deletes itself on close
    _keep.remove(dialog)
    result["steps"].append("modeler")
    _step("algorithm dialog", open_algorithm_dialog)


# --- 3. an algorithm dialog, run from its Run button -------------------------------------------

def open_algorithm_dialog():
    import processing

    dialog = processing.createAlgorithmDialog(ALGORITHM, {
        "MODEL": NETWORK,
        "INPUTS": INPUT_RASTERS,
        "OUTPUT": OUTPUT,
    })
    if dialog is None:
        _fail(f"no dialog for {ALGORITHM}")
        return
    _keep.append(dialog)
    dialog.resize(QSize(1300, 850))
    dialog.show()
    _settle()
    help_panel = dialog.findChild(QTextBrowser, "textShortHelp")
    result["dialog"] = {
        "title": dialog.windowTitle(),
        "help_visible": bool(help_panel and help_panel.isVisible() and help_panel.width() > 50),
        "help_text": help_panel.toPlainText() if help_panel else None,
        "help_width": help_panel.width() if help_panel else None,
    }
    _screenshot("algorithm_dialog", dialog)
    loaded_before = set(QgsProject.instance().mapLayers())

    def loaded_layer():
        for layer_id, layer in QgsProject.instance().mapLayers().items():
            if layer_id not in loaded_before and isinstance(layer, QgsRasterLayer) \
                    and Path(layer.source().split("|")[0]) == Path(OUTPUT):
                return layer
        return None

    def log_text():
        log = dialog.findChild(QTextEdit, "txtLog")
        return log.toPlainText() if log else ""

    def after_run():
        result["dialog"]["log_tail"] = log_text()[-3000:]
        layer = loaded_layer()
        dialog.close()
        result["loaded_output"] = describe_layer(layer)
        result["steps"].append("algorithm dialog")
        _step("map canvas", lambda: show_on_canvas(layer))

    def finished_or_failed():
        if loaded_layer() is not None:
            return True
        text = log_text()
        # A failed run never loads its output: stop waiting once the log says so, or once the
        # dialog refuses the parameters (a message in its message bar, nothing run).
        if "Execution failed" in text:
            result["dialog"]["log_tail"] = text[-3000:]
            raise RuntimeError(f"{ALGORITHM} failed in its dialog:\n{text[-3000:]}")
        refusal = dialog.messageBar().currentItem()
        if refusal is not None:
            raise RuntimeError(f"the dialog of {ALGORITHM} refused to run: {refusal.text()}")
        return False

    dialog.runButton().click()
    _wait_for(finished_or_failed, after_run, 90, f"{ALGORITHM} to finish and load its output")


def describe_layer(layer):
    if layer is None:
        return None
    renderer = layer.renderer()
    description = {
        "name": layer.name(),
        "source": layer.source(),
        "renderer": renderer.type() if renderer else None,
    }
    if renderer is not None and renderer.type() == "singlebandpseudocolor":
        shader = renderer.shader().rasterShaderFunction()
        description.update({
            "band": renderer.band(),
            "classification_min": renderer.classificationMin(),
            "classification_max": renderer.classificationMax(),
            "ramp_items": [(item.value, item.color.name(), item.label)
                           for item in shader.colorRampItemList()],
        })
    elif renderer is not None and hasattr(renderer, "contrastEnhancement") \
            and renderer.contrastEnhancement() is not None:
        enhancement = renderer.contrastEnhancement()
        description.update({"stretch_min": enhancement.minimumValue(),
                            "stretch_max": enhancement.maximumValue()})
    return description


def show_on_canvas(layer):
    canvas = iface.mapCanvas()
    # Only the output, so the screenshot shows its style and nothing on top of it.
    iface.setActiveLayer(layer)
    canvas.setLayers([layer])
    canvas.setDestinationCrs(layer.crs())
    canvas.setExtent(layer.extent())
    # refresh() only schedules the render: wait for the signal that it has finished.
    rendered = []
    canvas.mapCanvasRefreshed.connect(lambda: rendered.append(True))
    canvas.refresh()
    _wait_for(lambda: rendered and not canvas.isDrawing(), grab_canvas, 30,
              "the map canvas to render")


def grab_canvas():
    _screenshot("map_canvas", iface.mapCanvas())
    _screenshot("main_window", iface.mainWindow())
    result["steps"].append("map canvas")
    _step("rasters from disk", load_from_disk)


# --- 4. rasters dragged in from disk -------------------------------------------------------------

def load_from_disk():
    result["from_disk"] = {}
    for name, path in {"output": OUTPUT, **DISK_RASTERS}.items():
        layer = iface.addRasterLayer(path, f"{name} (from disk)")
        result["from_disk"][name] = describe_layer(layer) if layer and layer.isValid() else None
    result["steps"].append("rasters from disk")
    _quit()


def start():
    result["current_step"] = "start-up"
    _write_result()
    _record_python_errors()
    QTimer.singleShot(int(WATCHDOG_S * 1000), _watchdog)
    iface.mainWindow().resize(QSize(1600, 1000))
    iface.mainWindow().showMaximized()
    # Plugins register their providers during start-up; wait until QGIS has settled.
    _wait_for(lambda: "processing" in plugins and plugins["processing"].toolbox is not None,
              lambda: _step("toolbox", check_toolbox), 60, "the Processing plugin")


start()
