"""What a user reads: help, references, search words, enum numbers, help pages (docs/)."""

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from qgis.core import QgsApplication

from conftest import REPO_ROOT
from raster_helpers import RecordingFeedback, algorithm
from test_provider import ALGORITHM_IDS

# Words that belong after the plain-words opening, never in its first sentence.
JARGON = ("MATLAB", "fitnet", "trainlm", "tansig", "logsig", "purelin", "mapminmax", "=", "·",
          "√", "σ²", "exp(")


def provider_algorithms():
    provider = QgsApplication.processingRegistry().providerById("smr")
    return sorted(provider.algorithms(), key=lambda created: created.id())


def algorithm_ids():
    # Parameters are collected before QGIS starts: test_provider's list, which it checks against
    # the provider.
    return sorted(ALGORITHM_IDS)


def cue(reference):
    """The word that shows a help text cites this reference: its first author's surname."""
    return reference.citation.split()[0]


def test_every_algorithm_of_the_provider_is_covered(qgis_app):
    assert [created.id() for created in provider_algorithms()] == algorithm_ids()


@pytest.mark.parametrize("algorithm_id", algorithm_ids())
def test_help_opens_in_plain_words(qgis_app, algorithm_id):
    created = algorithm(algorithm_id)
    first = created.shortDescription()
    assert created.shortHelpString().startswith(first), first
    assert first.endswith(".") and len(first.split()) >= 8, first
    for word in JARGON:
        assert word not in first, f"{algorithm_id}: '{word}' in the first sentence: {first}"
    # Parameter keys are for scripts: the first sentence names things as a user does.
    assert not re.search(r"\b[A-Z]{2,}_[A-Z_]+\b", first), first
    assert "paper 0" not in created.shortHelpString().lower()


@pytest.mark.parametrize("algorithm_id", algorithm_ids())
def test_help_gives_the_full_reference_of_every_paper_it_cites(qgis_app, algorithm_id):
    from smr.algorithms.references import REFERENCES, full_reference

    created = algorithm(algorithm_id)
    body = created.tr(type(created).HELP)
    cited = {key for key, reference in REFERENCES.items()
             if re.search(rf"\b{re.escape(cue(reference))}\b", body)}
    assert set(created.REFERENCE_KEYS) == cited, (algorithm_id, created.REFERENCE_KEYS, cited)
    help_text = created.shortHelpString()
    if cited:
        assert "References:" in help_text
        # After the plain words and the equations: the references close the help.
        assert help_text.index("References:") > help_text.index("\n\n")
    for key in cited:
        entry = full_reference(key)
        assert entry in help_text, entry
        reference = REFERENCES[key]
        assert reference.authors.split(",")[0] in entry
        assert (str(reference.year) in entry if reference.year
                else "year not stated in the paper's text" in entry)


def test_references_state_only_what_the_papers_state(qgis_app):
    from smr.algorithms.references import PAPER_KEYS, full_reference

    assert full_reference("wang2021") == (
        "Wang, J., Xu, D. (2021). Artificial Neural Network-Based Microwave Satellite Soil "
        "Moisture Reconstruction over the Qinghai–Tibet Plateau, China. Remote Sensing 13, 5156. "
        "https://doi.org/10.3390/rs13245156.")
    assert "https://doi.org/10.3390/rs13081583" in full_reference("lv2021")
    # Papers 000, 002 and 004 state no year, venue or DOI in their text: none is invented.
    for key in ("chang", "yu", "tsagkatakis"):
        entry = full_reference(key)
        assert "DOI not stated in the paper's text" in entry and "doi.org" not in entry
        assert not re.search(r"\b(19|20)\d\d\b", entry), entry
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for key in PAPER_KEYS:
        assert full_reference(key) in readme, key


@pytest.mark.parametrize("algorithm_id", algorithm_ids())
def test_search_words(qgis_app, algorithm_id):
    tags = algorithm(algorithm_id).tags()
    assert len(tags) >= 5 and all(tag.strip() for tag in tags)
    assert "soil moisture" in tags


def test_search_words_find_what_users_type(qgis_app):
    def tagged(word):
        return {created.name() for created in provider_algorithms() if word in created.tags()}

    assert {"backscatterconversion", "watercloudinversion", "watercloudforward",
            "backscattertimeindex"} <= tagged("Sentinel-1") & tagged("σ⁰") & tagged("sigma0")
    assert {"validationmetrics", "temporalmetrics"} <= tagged("RMSE") & tagged("ubRMSE")
    assert "trainmlp" in tagged("regression") & tagged("neural network")
    assert "spectralindex" in tagged("NDVI")


@pytest.mark.parametrize("algorithm_id", algorithm_ids())
def test_enum_help_lists_the_numbers_qgis_process_takes(qgis_app, algorithm_id):
    created = algorithm(algorithm_id)
    for definition in created.parameterDefinitions():
        if definition.type() != "enum":
            continue
        options = definition.options()
        listing = ", ".join(f"{number} = {label}" for number, label in enumerate(options))
        assert listing in definition.help(), (definition.name(), definition.help())
        assert f"{definition.name()}=0 … {len(options) - 1}" in definition.help()


def test_division_help_says_division_3_is_group(qgis_app):
    created = algorithm("smr:trainmlp")
    division = created.parameterDefinition("DIVISION").help()
    assert "0 = random, 1 = block, 2 = interleaved, 3 = group" in division


@pytest.mark.parametrize("algorithm_id", algorithm_ids())
def test_help_url_is_the_page_shipped_with_the_plugin(qgis_app, algorithm_id):
    created = algorithm(algorithm_id)
    url = urlparse(created.helpUrl())
    assert url.scheme == "file"
    page = Path(unquote(url.path))
    # The plugin is imported from the repository in these tests; installed, docs/ lies in the
    # same place relative to the plugin's algorithms/.
    assert page == REPO_ROOT / "docs" / f"{created.name()}.html"
    assert page.is_file()
    text = page.read_text(encoding="utf-8")
    assert f"smr:{created.name()}" in text
    for definition in created.parameterDefinitions():
        assert f"<code>{definition.name()}</code>" in text, definition.name()


def test_help_pages_are_up_to_date(qgis_app):
    from smr.algorithms.help_pages import expected_pages

    pages = expected_pages()
    docs = REPO_ROOT / "docs"
    stale = [name for name, text in pages.items()
             if not (docs / name).is_file() or (docs / name).read_text(encoding="utf-8") != text]
    extra = [path.name for path in docs.glob("*.html") if path.name not in pages]
    assert not stale and not extra, (
        f"docs/ is out of date (stale: {stale}, no such algorithm: {extra}): run "
        f"/usr/bin/python3 scripts/build-docs and commit docs/")
    assert set(pages) == {f"{name.split(':')[1]}.html" for name in algorithm_ids()} | {
        "index.html", "help.css"}


def test_a_page_lists_labels_keys_defaults_and_enum_numbers(qgis_app):
    text = (REPO_ROOT / "docs" / "trainmlp.html").read_text(encoding="utf-8")
    row = re.search(r"<tr><td>Division into train / validation / test</td>"
                    r"<td><code>DIVISION</code></td>.*?</tr>", text)
    assert row, "no DIVISION row"
    for option in ("<code>0</code> = random", "<code>3</code> = group"):
        assert option in row.group(0)
    assert "<td>1000</td>" in re.search(r"<tr><td>Maximum epochs</td>.*?</tr>", text).group(0)


def test_validation_metrics_is_in_the_validation_group_with_its_icon(qgis_app):
    created = algorithm("smr:validationmetrics")
    assert (created.groupId(), created.group()) == ("validation", "Validation")
    assert created.svgIconPath().endswith("validation.svg") and not created.icon().isNull()
    assert Path(created.svgIconPath()).is_file()
    # Every algorithm of the group shares its icon, and no other group uses it.
    for other in provider_algorithms():
        assert (other.groupId() == "validation") == other.svgIconPath().endswith(
            "validation.svg"), other.id()


@pytest.mark.parametrize("algorithm_id", ("smr:trainmlp", "smr:validationmetrics"))
def test_two_mode_inputs_say_which_mode_needs_them(qgis_app, algorithm_id):
    created = algorithm(algorithm_id)
    vector = ("INPUT_LAYER",) + created.SAMPLE_FIELDS
    for key in vector:
        assert created.parameterDefinition(key).description().startswith("Vector mode: "), key
    for key in created.SAMPLE_RASTERS:
        assert created.parameterDefinition(key).description().startswith("Raster mode: "), key
    assert "fill in one group, leave the other empty" in created.shortHelpString()


def test_water_cloud_a_has_its_unit_and_empty_a_b_take_the_polarisation_defaults(qgis_app):
    from smr.algorithms.watercloud import POLARISATION_DEFAULTS

    assert POLARISATION_DEFAULTS[0] == ("VV", 0.12, 0.09)  # the defaults before A, B could be empty
    for algorithm_id in ("smr:watercloudforward", "smr:watercloudinversion"):
        created = algorithm(algorithm_id)
        assert "m²/kg" in created.parameterDefinition("A").description()
        assert "m²/kg" in created.parameterDefinition("B").description()
        assert created.parameterDefinition("POLARISATION").options() == ["VV", "VH"]
        assert "VH A 0.035, B 0.14" in created.shortHelpString()


@pytest.mark.parametrize("given, expected", [
    ({}, {"A": 0.12, "B": 0.09}),
    ({"POLARISATION": 1}, {"A": 0.035, "B": 0.14}),
    ({"POLARISATION": 1, "A": 0.2}, {"A": 0.2, "B": 0.14}),
    ({"A": 0.0, "B": 0.3}, {"A": 0.0, "B": 0.3}),  # 0 is a value, not "empty"
])
def test_empty_a_and_b_take_the_chosen_polarisation_defaults(qgis_app, given, expected):
    from qgis.core import QgsProcessingContext

    created = algorithm("smr:watercloudinversion")
    feedback = RecordingFeedback()
    request = created.vegetation_request(given, QgsProcessingContext(), feedback)
    assert request == expected
    defaulted = [key for key in ("A", "B") if key not in given]
    assert len(feedback.infos) == len(defaulted)
    for key in defaulted:
        assert any(message.startswith(f"{key} not given") for message in feedback.infos)


def test_a_polarisation_out_of_range_is_refused_by_qgis(qgis_app):
    created = algorithm("smr:watercloudforward")
    polarisation = created.parameterDefinition("POLARISATION")
    assert polarisation.checkValueIsAcceptable(1) and polarisation.checkValueIsAcceptable(None)
    assert not polarisation.checkValueIsAcceptable(2)
    assert not created.parameterDefinition("A").checkValueIsAcceptable(-0.1)


@pytest.mark.parametrize("algorithm_id, key", [
    ("smr:pixelwisereconstruction", "TRAINING_PERIOD"),
    ("smr:pixelwisereconstruction", "PREDICTION_PERIOD"),
    ("smr:temporalmetrics", "PERIOD"),
    ("smr:triplecollocation", "PERIOD"),
    ("smr:cdfmatching", "FIT_PERIOD"),
])
def test_date_ranges_show_their_format(qgis_app, algorithm_id, key):
    # QGIS 3.22's text widget has no placeholder, so the label carries an example.
    created = algorithm(algorithm_id)  # owns its parameter definitions
    label = created.parameterDefinition(key).description()
    assert re.search(r"\d+:\d+", label) and re.search(r"\d{4}-\d\d-\d\d:\d{4}-\d\d-\d\d", label)
