"""algorithms/report.py: figures that fit a 1200 px page, units on the axes, density instead of
points for many pairs, and the warning when estimate and reference are in different units."""

import math
import re

import numpy as np
import pytest

from raster_helpers import RecordingFeedback, write_points


@pytest.fixture
def report_module(qgis_app):
    from smr.algorithms import report

    return report


@pytest.fixture
def drawn_figures(report_module, monkeypatch):
    """The matplotlib figures a report embeds, in order, to look inside them."""
    figures = []
    original = report_module.figure_as_png_base64

    def record(figure):
        figures.append(figure)
        return original(figure)

    monkeypatch.setattr(report_module, "figure_as_png_base64", record)
    return figures


def correlated_pairs(count, seed=1):
    generator = np.random.default_rng(seed)
    reference = generator.normal(0.25, 0.05, count)
    return list(reference), list(reference + generator.normal(0.0, 0.03, count))


def plotted_collections(figure):
    from matplotlib.collections import PathCollection, PolyCollection

    axes = figure.axes[0]
    return ([c for c in axes.collections if isinstance(c, PolyCollection)],
            [c for c in axes.collections if isinstance(c, PathCollection)])


# --- density -------------------------------------------------------------------------------------

def test_many_pairs_are_drawn_as_density_with_a_colour_bar(report_module, drawn_figures):
    count = report_module.DENSITY_THRESHOLD + 1
    reference, estimate = correlated_pairs(count)
    report = report_module.HtmlReport("density")
    report.scatter_plots([report_module.ScatterPanel("All pairs", reference, estimate)],
                         "Reference: probe", "Estimate: map", "m³/m³")
    (figure,) = drawn_figures
    hexagons, points = plotted_collections(figure)
    assert len(hexagons) == 1 and points == []
    # Every pair lies inside the shared limits, so the bins hold every pair exactly once.
    assert hexagons[0].get_array().sum() == count
    assert len(figure.axes) == 2 and figure.axes[1].get_ylabel() == "points per bin"
    assert figure.axes[0].get_xlabel() == "Reference: probe (m³/m³)"
    assert figure.axes[0].get_ylabel() == "Estimate: map (m³/m³)"
    assert "hexagon is the number of pairs" in report.html()


def test_up_to_the_threshold_the_pairs_are_drawn_as_points(report_module, drawn_figures):
    count = report_module.DENSITY_THRESHOLD
    reference, estimate = correlated_pairs(count)
    report = report_module.HtmlReport("points")
    report.scatter_plots([report_module.ScatterPanel("Train", reference, estimate)],
                         "Reference: t", "Estimate: t", "")
    (figure,) = drawn_figures
    hexagons, points = plotted_collections(figure)
    assert hexagons == [] and len(points) == 1
    assert len(points[0].get_offsets()) == count and len(figure.axes) == 1
    # No unit given: the axes say so rather than leaving the unit out.
    assert figure.axes[0].get_xlabel() == "Reference: t (unit not given)"
    assert "hexagon" not in report.html()


def test_a_sample_of_the_pairs_says_how_many_it_stands_for(report_module):
    reference, estimate = correlated_pairs(5000)
    report = report_module.HtmlReport("sample")
    report.scatter_plots([report_module.ScatterPanel("All pairs", reference, estimate,
                                                     total=357492)], "R", "E", "m³/m³")
    text = report.html()
    assert "All pairs (N = 357,492)" not in text  # the title is drawn inside the PNG
    assert "5,000 of the 357,492 pairs, chosen at random, are binned" in text


# --- figures fit the page ------------------------------------------------------------------------

def figure_widths(html):
    return [int(width) for width in re.findall(r'<figure style="width: (\d+)px">', html)]


def test_every_figure_fits_a_1200_px_page(report_module, drawn_figures):
    report = report_module.HtmlReport("widths")
    reference, estimate = correlated_pairs(3000)
    report.scatter_plots([report_module.ScatterPanel(name, reference, estimate)
                          for name in ("Train", "Validation", "Test")], "R", "E", "m³/m³")
    many = [f"setting_{number}" for number in range(25)]
    panels = [(title, [0.9] * 25, [0.02] * 25) for title in ("A", "B", "C", "D")]
    report.setting_panels(many, panels, 3, "Inputs", "m³/m³")
    report.setting_panels(["4", "8", "12"], [(t, [0.9] * 3, [0.02] * 3) for t in "ABCD"], 0,
                          "Hidden neurons", "m³/m³")
    labels = ["X: tc_retrieval_sm", "Y: tc_satellite_ssm", "Z: tc_reanalysis_sm"]
    report.box_plots([(f"panel {n}", "Error std (m³/m³)", [(label, [0.1, 0.2, 0.3])
                                                          for label in labels])
                      for n in range(3)], "Boxes.")
    widths = figure_widths(report.html())
    assert len(widths) == 3 + 2 + 1
    limit = report_module.FIGURE_MAX_WIDTH * report_module.FIGURE_DPI
    assert max(widths) <= limit < 1200 - 2 * 24  # the window less the body's margins
    # Every PNG is as wide as its figure element says, so no image is scaled.
    for figure, width in zip(drawn_figures, widths):
        assert round(figure.get_size_inches()[0] * report_module.FIGURE_DPI) == width
    assert "max-width: 100%" in report_module.STYLE


def test_box_plot_labels_do_not_overlap(report_module, drawn_figures):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    labels = ["X: tc_retrieval_sm", "Y: tc_satellite_ssm", "Z: tc_reanalysis_sm"]
    report = report_module.HtmlReport("boxes")
    report.box_plots([("Errors", "Error std (m³/m³)",
                       [(label, [0.1, 0.2, 0.3]) for label in labels])], "Boxes.")
    (figure,) = drawn_figures
    renderer = FigureCanvasAgg(figure).get_renderer()
    boxes = [label.get_window_extent(renderer) for label in figure.axes[0].get_xticklabels()]
    for left, right in zip(boxes, boxes[1:]):
        assert left.x1 < right.x0, "tick labels overlap"
    assert figure.axes[0].get_xticklabels()[0].get_text() == "X:\ntc_retrieval_sm\n(n = 3)"


def test_a_table_of_many_rows_scrolls_inside_its_box(report_module):
    report = report_module.HtmlReport("table")
    report.table(["Step", "r"], [(f"day {i}", [0.5]) for i in range(365)])
    report.table(["Step", "r"], [(f"day {i}", [0.5]) for i in range(5)])
    text = report.html()
    assert text.count('<div class="table scrolled">') == 1
    assert text.count('<div class="table">') == 1


# --- different units ------------------------------------------------------------------------------

def test_a_scale_difference_of_100_is_a_unit_mismatch(report_module):
    reference = [0.10, 0.20, 0.30, 0.25, None]
    estimate = [10.0, 20.0, 30.0, 25.0, 40.0]  # % saturation; the last pair has no reference
    # Medians of |value| over the 4 pairs: 22.5 and 0.225, a factor of 100.
    typical_estimate, typical_reference, ratio = report_module.unit_mismatch(reference, estimate)
    assert (typical_estimate, typical_reference) == pytest.approx((22.5, 0.225))
    assert ratio == pytest.approx(100.0)
    # Either way round.
    assert report_module.unit_mismatch(estimate, reference)[2] == pytest.approx(0.01)
    text = report_module.unit_mismatch_warning((22.5, 0.225, 100.0), "ssm", "sm")
    assert "100 times" in text and "smr:cdfmatching" in text and "NSE" in text


def test_matched_or_merely_biased_data_are_no_unit_mismatch(report_module):
    reference, estimate = correlated_pairs(500)
    assert report_module.unit_mismatch(reference, estimate) is None
    # A dry bias of a factor of 3 (0.1 against 0.3 m³/m³) is an error, not another unit.
    assert report_module.unit_mismatch([0.3, 0.31, 0.29], [0.1, 0.11, 0.09]) is None
    # Anomalies around 0 of the same spread: no mismatch either.
    assert report_module.unit_mismatch([-0.02, 0.01, 0.03, -0.01],
                                       [-0.01, 0.02, 0.02, -0.03]) is None


def test_the_limit_is_a_factor_of_ten_and_zeros_do_not_divide(report_module):
    limit = report_module.SCALE_RATIO_LIMIT
    assert limit == 10.0
    assert report_module.unit_mismatch([1.0, 2.0, 3.0], [10.0, 20.0, 30.0]) is not None
    assert report_module.unit_mismatch([1.0, 2.0, 3.0], [9.9, 19.8, 29.7]) is None
    # Mostly zeros: the mean of |value| is the scale (0.4 / 5 = 0.08 against 8 / 5 = 1.6: 20).
    assert report_module.unit_mismatch([0, 0, 0, 0.2, 0.2], [0, 0, 0, 4.0, 4.0])[2] == \
        pytest.approx(20.0)
    assert report_module.unit_mismatch([0.0, 0.0], [1.0, 2.0]) is None  # nothing to compare
    assert report_module.unit_mismatch([], []) is None


def test_validation_of_percent_against_volumetric_warns_in_report_and_log(run_algorithm,
                                                                          tmp_path):
    reference = [0.10 + 0.005 * i for i in range(40)]
    percent = [100.0 * value + (1.0 if i % 3 else -2.0) for i, value in enumerate(reference)]
    layer = write_points(tmp_path / "pairs.gpkg", {"ascat": percent, "probe": reference})
    feedback = RecordingFeedback()
    result = run_algorithm("validationmetrics", {
        "INPUT_LAYER": layer, "ESTIMATE_FIELD": "ascat", "REFERENCE_FIELD": "probe",
        "OUTPUT_REPORT": str(tmp_path / "report.html")}, feedback)
    assert result["NSE"] < -1000  # what the warning is about
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert text.count('<p class="warning">') == 1 and "different units" in text
    # The warning comes before the metrics it is about.
    assert text.index('<p class="warning">') < text.index("<h2>Metrics</h2>")
    # The metrics that compare values across units are not shown as results, only in a note;
    # r is, and the scatter plot gives each axis its own range, without a 1:1 line.
    cells = re.findall(r'<td class="number">([^<]*)</td>', text)
    assert cells[0] == f"{result['R']:.4g}" and cells[2] == "units differ"
    assert cells.count("units differ") == 5
    assert f"As computed, though meaningless across units: NSE {result['NSE']:.4g}," in text
    assert "each axis in its own units and range (no 1:1 line" in text
    assert len(feedback.warnings) == 1 and "smr:cdfmatching" in feedback.warnings[0]
    assert feedback.errors == []


def test_validation_of_matched_data_does_not_warn(run_algorithm, tmp_path):
    reference = [0.10 + 0.005 * i for i in range(40)]
    estimate = [value + (0.01 if i % 3 else -0.02) for i, value in enumerate(reference)]
    layer = write_points(tmp_path / "pairs.gpkg", {"sm": estimate, "probe": reference})
    feedback = RecordingFeedback()
    result = run_algorithm("validationmetrics", {
        "INPUT_LAYER": layer, "ESTIMATE_FIELD": "sm", "REFERENCE_FIELD": "probe",
        "UNIT": "m³/m³", "OUTPUT_REPORT": str(tmp_path / "report.html")}, feedback)
    assert math.isfinite(result["NSE"]) and result["NSE"] > 0.9
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'class="warning"' not in text and feedback.warnings == []


def test_time_matching_fields_are_named_by_their_role(run_algorithm, tmp_path):
    values = [0.10 + 0.005 * i for i in range(10)]
    layer = write_points(tmp_path / "pairs.gpkg", {
        "reference_value": [value + 0.01 for value in values], "other_value": values})
    run_algorithm("validationmetrics", {
        "INPUT_LAYER": layer, "ESTIMATE_FIELD": "reference_value",
        "REFERENCE_FIELD": "other_value", "OUTPUT_REPORT": str(tmp_path / "report.html")})
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert ("<h1>Validation of the estimate reference_value against the reference "
            "other_value</h1>") in text
    assert "Here reference_value is compared as the estimate and other_value as the " \
           "reference" in text
