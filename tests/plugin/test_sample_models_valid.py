"""Every sample model passes QGIS's own validation, the check behind the Modeler's Validate.

A model that fails it still runs, but opens in the Graphical Modeler with its steps drawn red and
"Model is invalid!": the usual cause is a child step that leaves a mandatory parameter unset,
even one with a default. sample_projects/build_models.py writes every such parameter; these tests
catch a model file that is stale (an algorithm gained a parameter and the models were not rebuilt)
or a builder that forgets one.
"""

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

SAMPLE_PROJECTS = Path(__file__).resolve().parents[2] / "sample_projects"

# A model added to sample_projects must be added here too, so that none is silently left out.
KNOWN_MODELS = {
    "insitu_validation.model3",
    "paper000_physical_chain.model3",
    "paper000_soil_moisture.model3",
    "paper001_reconstruction.model3",
    "paper003_predictors.model3",
    "validation_products.model3",
    "wcm_forward_simulation.model3",
}


def _load_model(path):
    from qgis.core import QgsProcessingModelAlgorithm

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(path)), f"QGIS cannot read the model {path}"
    return model


def _plain(issues):
    """QGIS's issues are HTML (<b>step</b>: Parameter <i>KEY</i> is mandatory)."""
    return [re.sub(r"<[^>]+>", "", issue) for issue in issues]


def test_the_sample_models_are_the_known_ones():
    found = {path.name for path in SAMPLE_PROJECTS.glob("*.model3")}
    assert found == KNOWN_MODELS, (
        f"sample models changed: new {sorted(found - KNOWN_MODELS)}, missing "
        f"{sorted(KNOWN_MODELS - found)}; update KNOWN_MODELS (and build_models.py)")


@pytest.mark.parametrize("file_name", sorted(KNOWN_MODELS))
def test_sample_model_passes_qgis_validation(qgis_app, file_name):
    model = _load_model(SAMPLE_PROJECTS / file_name)
    assert model.childAlgorithms(), f"{file_name} has no steps"
    for child_id, child in model.childAlgorithms().items():
        assert child.algorithm() is not None, (
            f"{file_name}: step {child_id} uses {child.algorithmId()}, which is not registered")
    valid, issues = model.validate()
    assert (valid, _plain(issues)) == (True, []), (
        f"{file_name} is invalid in the Modeler; rebuild it with sample_projects/build_models.py")


def _without_child_parameter(source, target, child_id, key):
    """Copy the model file SOURCE to TARGET without the parameter KEY of the step CHILD_ID."""
    tree = ElementTree.parse(source)
    params = tree.getroot().find(
        f"./Option[@name='children']/Option[@name='{child_id}']/Option[@name='params']")
    assert params is not None, f"{source.name} has no step {child_id}"
    parameter = params.find(f"./Option[@name='{key}']")
    assert parameter is not None, f"{source.name}: step {child_id} does not set {key}"
    params.remove(parameter)
    # ElementTree drops the <!DOCTYPE model> line; QGIS reads the file without it.
    tree.write(target, encoding="utf-8")


@pytest.mark.parametrize("child_id, key, step", [
    # A parameter with a default, written only by build_models.py's generic pass.
    ("vv", "THREADS", "Water cloud inversion VV (paper 000 eq. 10)"),
    # A mandatory input without a default that the builder links to a model input.
    ("vwc", "INPUT", "Vegetation water content (paper 000 eq. 7-9)"),
])
def test_a_model_missing_a_mandatory_child_parameter_is_invalid(qgis_app, tmp_path, child_id,
                                                                 key, step):
    source = SAMPLE_PROJECTS / "paper000_physical_chain.model3"
    broken = tmp_path / source.name
    _without_child_parameter(source, broken, child_id, key)
    # The copy differs only by that parameter: everything else still validates.
    assert _load_model(source).validate()[0]

    valid, issues = _load_model(broken).validate()

    assert not valid
    assert _plain(issues) == [f"{step}: Parameter {key} is mandatory"]
