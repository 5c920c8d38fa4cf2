"""The HTML report of every training and validation algorithm (DESIGN §7).

One self-contained .html file that QGIS shows in the Results Viewer: metrics tables, scatter plots
of estimate against reference with the 1:1 line, training curves, sensitivity panels (paper 001
Fig. 3), and the settings of the run.
Plots are PNG images made with matplotlib and embedded as base64, so the file can be mailed or
archived alone. Every string that comes from the user (layer, field and file names) is escaped.

Made to be read in a browser window of 1200 px: no figure is wider than FIGURE_MAX_WIDTH, images
shrink with a narrower window (max-width), wide tables scroll sideways inside the page and long ones
inside a box. scripts/screenshot-reports renders every sample report that way to look at them.
"""

import base64
import datetime
import html
import io
import math
import os
import re
import statistics

# The Agg canvas is used directly, never pyplot: matplotlib.use("Agg") would switch the backend
# of the whole QGIS process (plots of the Python console), and pyplot's global figure registry is
# not safe on the background thread where QGIS runs Processing algorithms.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

# (key in the core's metrics objects, column title). The upper-case key is the suffix of the
# Processing outputs (R, R2, ..., TRAIN_RMSE, ...).
METRIC_COLUMNS = (
    ("r", "r"),
    ("r2", "r²"),
    ("nse", "NSE"),
    ("rmse", "RMSE"),
    ("ubrmse", "ubRMSE"),
    ("mae", "MAE"),
    ("bias", "bias"),
    ("n", "N"),
)
METRIC_KEYS = tuple(key for key, _ in METRIC_COLUMNS)
# Metrics in the unit of the values; the others are unitless or counts.
METRICS_WITH_UNIT = ("rmse", "ubrmse", "mae", "bias")
# Metrics that compare the values themselves, meaningless when estimate and reference are in
# different units (r and r² are not affected by a change of unit).
UNIT_DEPENDENT_METRICS = METRICS_WITH_UNIT + ("nse",)

BIAS_CONVENTION = (
    "Sign convention: bias = mean(estimate − reference), so a positive bias means the estimate is "
    "too high and a negative one that it is too low. Wang and Xu (2021) use the opposite sign "
    "(reference − estimate). ubRMSE = √(RMSE² − bias²); NSE = 1 − Σ(estimate − reference)² / "
    "Σ(reference − mean reference)². A dash marks a metric that is undefined (fewer than 2 pairs, "
    "or a constant series for r and NSE).")

# Figures are drawn at FIGURE_DPI pixels per inch and never wider than FIGURE_MAX_WIDTH inches:
# 1100 px, inside a 1200 px window less the page margins, so that no figure is scaled down (its text
# would shrink with it).
FIGURE_DPI = 100
FIGURE_MAX_WIDTH = 11.0

# Above this many pairs a scatter panel shows their density (hexagonal bins coloured by the number
# of pairs in each) instead of the points, which merge into one blot where the data are dense and
# hide where most of them lie.
DENSITY_THRESHOLD = 2000
DENSITY_GRID = 40  # hexagons across the axes
# From this many pairs in the fullest bin, the colour scale is logarithmic: otherwise the few
# densest bins take all the colours and the rest look empty.
DENSITY_LOG_COUNT = 20

# Estimate and reference are taken to be in different units (e.g. % saturation against m³/m³, or
# dB against linear σ⁰) when their typical magnitudes, the medians of |value|, differ by this
# factor or more. Soil moisture estimates that are merely biased stay well within it (0.1 against
# 0.3 m³/m³ is a factor of 3); a unit change is a factor of 100 (% against m³/m³) or more.
SCALE_RATIO_LIMIT = 10.0

# A table of more rows than this scrolls inside a box, so that what follows it is still in reach.
SCROLLED_TABLE_ROWS = 40

# Sensitivity panels side by side up to this many settings (each panel is then about 5 inches
# wide, 0.4 inch per tick label); one panel per row beyond.
SIDE_BY_SIDE_SETTINGS = 10

SUBSET_COLOURS = {"train": "#1f77b4", "validation": "#2ca02c", "test": "#d62728"}

# Sensitivity panels: r and RMSE lines, and the box around the best setting (purple, as the box of
# paper 001 Fig. 3).
R_COLOUR = "#1f77b4"
RMSE_COLOUR = "#d62728"
BEST_COLOUR = "#7b3294"

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; }
th { background: #eee; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; max-width: 100%;
         vertical-align: top; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #444; max-width: 60em; }
p.note { font-size: 0.9em; color: #444; max-width: 60em; }
p.warning { max-width: 60em; padding: 0.6em 1em; border-left: 0.4em solid #d95f02;
            background: #fdebd9; font-weight: bold; }
div.table { max-width: 100%; overflow-x: auto; }
div.table.scrolled { max-height: 32em; overflow-y: auto; width: fit-content; }
div.table.scrolled tr:first-child th { position: sticky; top: 0; }
tr.best th, tr.best td { background: #eadcf4; font-weight: bold; }
"""


def escape(text):
    return html.escape(str(text), quote=True)


def is_missing(value):
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def format_number(value):
    """A metric or setting as shown in the report: 4 significant digits, a dash when undefined."""
    if is_missing(value):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def metrics_from_outputs(outputs, prefix=""):
    """{"r": …, …, "n": …} from the core's result keys PREFIX + R, R2, …, N (absent -> None)."""
    return {key: outputs.get(prefix + key.upper()) for key in METRIC_KEYS}


def _as_float(value):
    """A metric for plotting: NaN where it is undefined, so the line has a gap there."""
    return math.nan if is_missing(value) else float(value)


def unit_suffix(unit):
    return f" ({unit})" if unit else ""


def axis_unit(unit):
    """The unit of a plotted quantity for its axis label; every value axis says its unit, or
    that none was given."""
    return f" ({unit})" if unit else " (unit not given)"


# The axis label suffix of correlations and other ratios.
DIMENSIONLESS = " (dimensionless)"


def finite_pairs(reference, estimate):
    """(reference, estimate) lists without the pairs where either value is missing."""
    kept = [(r, e) for r, e in zip(reference, estimate)
            if not is_missing(r) and not is_missing(e)]
    return [r for r, _ in kept], [e for _, e in kept]


def typical_magnitude(values):
    """The median of |value|: robust to a few wild values and, unlike the mean, to an offset
    that cancels. When more than half the values are 0, the mean of |value|; None when all are
    0 (nothing to compare)."""
    magnitudes = [abs(value) for value in values if not is_missing(value)]
    if not magnitudes:
        return None
    typical = statistics.median(magnitudes)
    if typical == 0:
        typical = statistics.fmean(magnitudes)
    return typical if typical > 0 else None


def unit_mismatch(reference, estimate):
    """(typical |estimate|, typical |reference|, their ratio) when they differ by
    SCALE_RATIO_LIMIT or more, the sign that the two are in different units; else None."""
    reference, estimate = finite_pairs(reference, estimate)
    typical_estimate, typical_reference = typical_magnitude(estimate), typical_magnitude(reference)
    if typical_estimate is None or typical_reference is None:
        return None
    ratio = typical_estimate / typical_reference
    if 1.0 / SCALE_RATIO_LIMIT < ratio < SCALE_RATIO_LIMIT:
        return None
    return typical_estimate, typical_reference, ratio


def unit_mismatch_warning(mismatch, estimate_label, reference_label):
    """The report's and the log's warning for unit_mismatch()'s finding."""
    typical_estimate, typical_reference, ratio = mismatch
    if ratio >= 1:
        comparison = f"{ratio:,.0f} times"
    else:
        comparison = f"1/{1 / ratio:,.0f} of"
    return (f"The estimate and the reference seem to be in different units: the typical "
            f"|{estimate_label}| ({typical_estimate:.3g}) is {comparison} the typical "
            f"|{reference_label}| ({typical_reference:.3g}), medians of the absolute values; a "
            f"factor of {SCALE_RATIO_LIMIT:g} or more is taken as a unit mismatch (e.g. % "
            f"saturation against m³/m³, or dB against linear σ⁰). r and r² do not depend on the "
            f"units, but RMSE, ubRMSE, MAE, bias and NSE compare numbers in different units and "
            f"mean nothing here. Rescale the estimate onto the reference first (smr:cdfmatching, "
            f"CDF matching) or convert its unit, then validate again.")


def figure_as_png_base64(figure):
    FigureCanvasAgg(figure)
    width, height = figure.get_size_inches()
    if width > FIGURE_MAX_WIDTH:  # a safety net: every figure is laid out to fit already
        figure.set_size_inches(FIGURE_MAX_WIDTH, height * FIGURE_MAX_WIDTH / width)
    # tight_layout rather than savefig(bbox_inches="tight"), which draws the figure twice.
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def padded_range(values):
    """(low, high) of the values with 5 % room on either side (some room for a constant)."""
    low, high = min(values), max(values)
    margin = 0.05 * (high - low) if high > low else max(abs(high) * 0.05, 1e-3)
    return low - margin, high + margin


def wrapped_label(text, width=16):
    """A tick label on lines of at most about `width` characters: a new line after ': ', and
    long parts broken at spaces or after '_' (names such as tc_retrieval_sm), never inside a
    word."""
    lines = []
    for part in str(text).replace(": ", ":\n").split("\n"):
        line = ""
        for chunk in re.findall(r"[^ _]*(?:_+| +|$)", part):
            if not chunk:
                continue
            if line and len(line) + len(chunk.rstrip()) > width:
                lines.append(line.rstrip())
                line = ""
            line += chunk
        lines.append(line.rstrip())
    return "\n".join(lines)


class ScatterPanel:
    """One scatter plot: a title (e.g. "Test") and the pairs it shows.

    total: how many pairs the plotted ones were drawn from, when the caller passes a sample
    (validationmetrics gets at most MAX_PLOT_PAIRS pairs from the core); by default all are given.
    More than DENSITY_THRESHOLD pairs are shown as their density.
    """

    def __init__(self, title, reference, estimate, colour="#1f77b4", total=None):
        self.title = title
        self.reference, self.estimate = finite_pairs(reference, estimate)
        self.colour = colour
        self.total = len(self.reference) if total is None else total


class HtmlReport:
    """A report built section by section and written as one self-contained HTML file."""

    def __init__(self, title):
        self.title = title
        self._parts = [f"<h1>{escape(title)}</h1>"]
        # The texts of warning(), which the algorithm also puts in the Processing log.
        self.warnings = []

    def heading(self, text):
        self._parts.append(f"<h2>{escape(text)}</h2>")

    def paragraph(self, text, note=False):
        css_class = ' class="note"' if note else ""
        self._parts.append(f"<p{css_class}>{escape(text)}</p>")

    def warning(self, text):
        """A prominent warning (a result not to be trusted as it stands), also kept in
        self.warnings for the log."""
        self.warnings.append(text)
        self._parts.append(f"<p class=\"warning\">⚠ {escape(text)}</p>")

    def _table(self, rows_html, row_count, css_class=""):
        """A table inside a box that scrolls sideways when the table is wider than the page,
        and downwards when it has more than SCROLLED_TABLE_ROWS rows."""
        box = "table scrolled" if row_count > SCROLLED_TABLE_ROWS else "table"
        table_class = f' class="{css_class}"' if css_class else ""
        self._parts.append(f"<div class=\"{box}\"><table{table_class}>{rows_html}</table></div>")

    def definition_table(self, rows):
        """A two-column table of (label, value) rows, e.g. the settings of a run."""
        body = "".join(
            f"<tr><th scope=\"row\">{escape(label)}</th>"
            f"<td>{escape(format_number(value))}</td></tr>"
            for label, value in rows)
        self._table(body, body.count("<tr>"))

    def metrics_table(self, rows, first_column, unit="", units_differ=False):
        """rows: (label, {"r": …, …, "n": …}); one row per subset or group.

        units_differ: estimate and reference are in different units (unit_mismatch), so the
        metrics that compare their values (UNIT_DEPENDENT_METRICS) are shown as "units differ"
        and their numbers, meaningless, only in a note under the table."""
        header = "".join(
            f"<th>{escape(title + (unit_suffix(unit) if key in METRICS_WITH_UNIT else ''))}</th>"
            for key, title in METRIC_COLUMNS)
        body, hidden = [], []
        for label, metrics in rows:
            cells = []
            for key, title in METRIC_COLUMNS:
                value = format_number(metrics.get(key))
                if units_differ and key in UNIT_DEPENDENT_METRICS:
                    hidden.append(f"{title} {value}")
                    value = "units differ"
                cells.append(f"<td class=\"number\">{escape(value)}</td>")
            body.append(f"<tr><th scope=\"row\">{escape(label)}</th>{''.join(cells)}</tr>")
        self._table(f"<tr><th>{escape(first_column)}</th>{header}</tr>{''.join(body)}",
                    len(body), "metrics")
        if hidden:
            self.paragraph("As computed, though meaningless across units: " + ", ".join(hidden)
                           + (" (row by row)." if len(rows) > 1 else "."), note=True)

    def table(self, header, rows, highlighted=None):
        """A table with a header row; rows are (label, [values]). The row at index
        `highlighted` is marked (bold on a purple tint, as the best setting of a sweep)."""
        head = "".join(f"<th>{escape(title)}</th>" for title in header)
        body = []
        for index, (label, values) in enumerate(rows):
            css_class = ' class="best"' if index == highlighted else ""
            cells = "".join(f"<td class=\"number\">{escape(format_number(value))}</td>"
                            for value in values)
            body.append(f"<tr{css_class}><th scope=\"row\">{escape(label)}</th>{cells}</tr>")
        self._table(f"<tr>{head}</tr>{''.join(body)}", len(body))

    def setting_panels(self, labels, panels, best_index, setting_label, unit=""):
        """Paper 001 Fig. 3: per panel (title, mean r per setting, mean RMSE per setting), r on
        the left axis and RMSE on the right against the settings, whose labels are the ticks; the
        best setting is boxed. A missing value leaves a gap in its line."""
        positions = list(range(len(labels)))
        longest = max((len(str(label)) for label in labels), default=0)
        rotation = 0 if longest <= 4 else (45 if longest <= 12 else 90)
        # Two panels side by side while each has room for a tick label per setting and the
        # legend in one row; more settings get the page's width for each panel, one under the
        # other. Either way the figure fits the page (FIGURE_MAX_WIDTH).
        columns = 2 if len(labels) <= SIDE_BY_SIDE_SETTINGS else 1
        rows = math.ceil(len(panels) / columns)
        figure = Figure(figsize=(FIGURE_MAX_WIDTH, rows * (3.7 + longest * 0.04)))
        for number, (title, r_values, rmse_values) in enumerate(panels, start=1):
            r_axes = figure.add_subplot(rows, columns, number)
            rmse_axes = r_axes.twinx()
            if best_index is not None and 0 <= best_index < len(labels):
                r_axes.axvspan(best_index - 0.4, best_index + 0.4, facecolor=BEST_COLOUR,
                               alpha=0.15, edgecolor=BEST_COLOUR, linewidth=1.5)
            r_line, = r_axes.plot(positions, [_as_float(value) for value in r_values],
                                  color=R_COLOUR, marker="o", linewidth=1.4, label="Mean R")
            rmse_line, = rmse_axes.plot(positions, [_as_float(value) for value in rmse_values],
                                        color=RMSE_COLOUR, marker="s", linewidth=1.4,
                                        label="Mean RMSE")
            r_axes.set_xticks(positions)
            r_axes.set_xticklabels([str(label) for label in labels], rotation=rotation,
                                   ha="right" if rotation else "center",
                                   fontsize=8 if rotation else 9)
            r_axes.set_xlim(-0.6, len(labels) - 0.4)
            r_axes.set_xlabel(setting_label)
            r_axes.set_ylabel(f"Mean R{DIMENSIONLESS}", color=R_COLOUR)
            rmse_axes.set_ylabel(f"Mean RMSE{axis_unit(unit)}", color=RMSE_COLOUR)
            r_axes.tick_params(axis="y", colors=R_COLOUR)
            rmse_axes.tick_params(axis="y", colors=RMSE_COLOUR)
            r_axes.set_title(title)
            r_axes.grid(True, linewidth=0.3)
            handles = [r_line, rmse_line]
            if best_index is not None:
                handles.append(Patch(facecolor=BEST_COLOUR, alpha=0.3, edgecolor=BEST_COLOUR,
                                     label="Best setting"))
            # Headroom above both lines for the legend, drawn on the top axes so no line
            # crosses it.
            for axes in (r_axes, rmse_axes):
                low, high = axes.get_ylim()
                axes.set_ylim(low, high + 0.3 * (high - low))
            rmse_axes.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=8)
        best = (f"the shaded purple box marks the best setting, {labels[best_index]} "
                f"(lowest mean overall RMSE)" if best_index is not None
                and 0 <= best_index < len(labels) else "no setting could be rated")
        self._figure(figure, f"Mean R (left axis) and mean RMSE{unit_suffix(unit)} (right axis) "
                             f"of the training, validation, test and overall samples against "
                             f"the setting, as Fig. 3 of Wang and Xu (2021); {best}.")

    def bias_convention(self):
        self.paragraph(BIAS_CONVENTION, note=True)

    def scatter_plots(self, panels, reference_label, estimate_label, unit="",
                      units_differ=False):
        """One plot of estimate against reference per panel with the 1:1 line, on equal axes
        shared by all panels: the points, or above DENSITY_THRESHOLD pairs their density.

        The axis labels name the two quantities (e.g. "Reference: sm"); the unit is appended.
        units_differ: each axis gets its own range and there is no 1:1 line, which would be
        meaningless (and squeeze the pairs against one axis)."""
        references = [value for panel in panels for value in panel.reference]
        estimates = [value for panel in panels for value in panel.estimate]
        if not references:
            self.paragraph("No pairs to plot.", note=True)
            return
        if units_differ:
            limits = (padded_range(references), padded_range(estimates))
        else:
            limits = (padded_range(references + estimates),) * 2
        for panel in panels:
            self._scatter_plot(panel, reference_label, estimate_label, unit, limits,
                               units_differ)

    def _scatter_plot(self, panel, reference_label, estimate_label, unit, limits,
                      units_differ=False):
        x_limits, y_limits = limits
        density = len(panel.reference) > DENSITY_THRESHOLD
        # The density's colour bar takes room beside the axes; the axes keep their size.
        figure = Figure(figsize=(5.2 if density else 4.4, 4.4))
        axes = figure.add_subplot()
        if density:
            bins = axes.hexbin(panel.reference, panel.estimate, gridsize=DENSITY_GRID,
                               extent=(*x_limits, *y_limits), mincnt=1, cmap="viridis",
                               linewidths=0.2)
            fullest = float(max(bins.get_array(), default=1))
            if fullest >= DENSITY_LOG_COUNT:
                bins.set_norm(LogNorm(vmin=1, vmax=fullest))
            colour_bar = figure.colorbar(bins, ax=axes, fraction=0.046, pad=0.04)
            colour_bar.set_label("points per bin")
        else:
            # Smaller and more transparent markers as the points get denser.
            few = len(panel.reference) < 500
            axes.scatter(panel.reference, panel.estimate, s=12 if few else 5,
                         alpha=0.8 if few else 0.4, color=panel.colour, edgecolors="none")
        if units_differ:
            # Own units: the values' ranges, without the 1:1 line.
            axes.set_box_aspect(1)
            unit_label = " (own units)"
            caption = (f"{panel.title}: estimate against reference, each axis in its own units "
                       f"and range (no 1:1 line: the units differ)")
        else:
            axes.plot(x_limits, x_limits, color="black", linestyle="--", linewidth=1,
                      label="1:1")
            axes.set_aspect("equal")
            axes.legend(loc="upper left")
            unit_label = axis_unit(unit)
            caption = f"{panel.title}: estimate against reference, dashed line 1:1"
        axes.set_xlim(x_limits)
        axes.set_ylim(y_limits)
        axes.set_xlabel(f"{reference_label}{unit_label}")
        axes.set_ylabel(f"{estimate_label}{unit_label}")
        axes.set_title(f"{panel.title} (N = {panel.total:,})")
        axes.grid(True, linewidth=0.3)
        if density:
            caption += (f"; the colour of each hexagon is the number of pairs in it (more than "
                        f"{DENSITY_THRESHOLD:,} pairs: single points would merge)")
        if len(panel.reference) < panel.total:
            caption += (f"; {len(panel.reference):,} of the {panel.total:,} pairs, chosen at "
                        f"random, are {'binned' if density else 'shown'}")
        self._figure(figure, caption)

    def training_curves(self, curves, kept_epoch, unit=""):
        """RMSE per epoch for each subset that has a curve; a marker at the epoch kept."""
        epochs = curves.get("epoch") or []
        figure = Figure(figsize=(6.5, 4.0))
        axes = figure.add_subplot()
        plotted = []
        for subset in ("train", "validation", "test"):
            rmse = curves.get(subset) or []
            if len(rmse) != len(epochs) or not rmse:
                continue
            axes.plot(epochs, rmse, color=SUBSET_COLOURS[subset], linewidth=1.4,
                      label=subset.capitalize())
            plotted.extend(value for value in rmse if not is_missing(value))
        if not plotted:
            self.paragraph("No training curve was returned.", note=True)
            return
        if min(plotted) > 0:
            axes.set_yscale("log")  # as MATLAB's plotperform: errors fall over decades
        if kept_epoch is not None:
            axes.axvline(kept_epoch, color="black", linestyle=":", linewidth=1.2,
                         label=f"Kept: epoch {kept_epoch}")
        axes.set_xlabel("Epoch")
        axes.set_ylabel(f"RMSE{axis_unit(unit)}")
        axes.set_title("Training curves")
        axes.legend()
        axes.grid(True, linewidth=0.3)
        self._figure(figure, "RMSE after each epoch of the kept restart (epoch 0: the initial "
                             "weights); the dotted line marks the epoch whose weights were kept.")

    def box_plots(self, panels, caption):
        """Box plots side by side, one axes per panel (title, y-axis label, [(label, values)]):
        the spread of a quantity per dataset, as paper 003 Fig. 8. Missing values are left out;
        the label under each box says how many values it summarises."""
        if not panels:
            return
        # Each box gets the width of its (wrapped) label, so labels never overlap; panels share
        # the figure's width in proportion to their boxes.
        tick_labels = [[f"{wrapped_label(label)}\n(n = {sum(not is_missing(v) for v in values)})"
                        for label, values in boxes] for _, _, boxes in panels]
        box_widths = [max(0.9, 0.085 * max(len(line) for text in labels
                                              for line in text.split("\n")) + 0.2)
                      for labels in tick_labels]
        # ... and room for the panel's title (about 0.1 inch per character at 12 pt).
        panel_widths = [max(len(labels) * width + 1.1, 0.1 * len(title) + 1.1)
                        for labels, width, (title, _, _) in zip(tick_labels, box_widths, panels)]
        figure = Figure(figsize=(min(FIGURE_MAX_WIDTH, max(4.5, sum(panel_widths) + 0.3)),
                                 4.2 + 0.15 * max(label.count("\n") for labels in tick_labels
                                                  for label in labels)))
        grid = figure.add_gridspec(1, len(panels), width_ratios=panel_widths)
        for number, ((title, y_label, boxes), labels) in enumerate(zip(panels, tick_labels)):
            axes = figure.add_subplot(grid[0, number])
            data = [[float(value) for value in values if not is_missing(value)]
                    for _, values in boxes]
            # Thousands of pixels put hundreds of points beyond the whiskers: small, light
            # markers keep the boxes readable.
            axes.boxplot(data, labels=labels, widths=0.45,
                         flierprops={"markersize": 2, "alpha": 0.4},
                         medianprops={"color": "black"})
            axes.set_title(title)
            axes.set_ylabel(y_label)
            axes.grid(True, axis="y", linewidth=0.3)
            axes.tick_params(axis="x", labelsize=8)
        self._figure(figure, caption + " Boxes span the quartiles with the median line; whiskers "
                              "reach the furthest value within 1.5 times the box height; points "
                              "beyond are drawn one by one.")

    def marked_series(self, x_values, y_values, marked, labels, axis_labels, level=None,
                      y_limits=None, caption=""):
        """A line over steps (x_values: dates or numbers) whose points in `marked` are filled and
        the others hollow, e.g. the spatial r per date with the significant dates filled.

        labels: (title, legend of the marked points, legend of the others, legend of `level`);
        axis_labels: (x, y); level: a horizontal reference line (e.g. the mean over the marked
        points), drawn when it is a number; y_limits: fixed (low, high), e.g. for correlations, so
        that a flat line is not blown up to fill the axes. Missing values leave a gap in the
        line."""
        title, marked_label, unmarked_label, level_label = labels
        values = [_as_float(value) for value in y_values]
        figure = Figure(figsize=(8.0, 4.0))
        axes = figure.add_subplot()
        axes.plot(x_values, values, color=R_COLOUR, linewidth=1.0)
        chosen = [(x, y) for x, y, is_marked in zip(x_values, values, marked)
                  if is_marked and math.isfinite(y)]
        others = [(x, y) for x, y, is_marked in zip(x_values, values, marked)
                  if not is_marked and math.isfinite(y)]
        if chosen:
            axes.scatter([x for x, _ in chosen], [y for _, y in chosen], s=18, color=R_COLOUR,
                         zorder=3, label=marked_label)
        if others:
            axes.scatter([x for x, _ in others], [y for _, y in others], s=18, zorder=3,
                         facecolors="white", edgecolors="#888888", label=unmarked_label)
        if not is_missing(level):
            axes.axhline(level, color="black", linestyle="--", linewidth=1.0,
                         label=f"{level_label} = {level:.4g}")
        axes.set_xlabel(axis_labels[0])
        axes.set_ylabel(axis_labels[1])
        axes.set_title(title)
        axes.grid(True, linewidth=0.3)
        if y_limits is not None:
            axes.set_ylim(*y_limits)
        axes.ticklabel_format(axis="y", useOffset=False)
        if chosen or others or not is_missing(level):
            axes.legend(fontsize=8)
        if any(isinstance(x, datetime.date) for x in x_values):
            locator = AutoDateLocator()
            axes.xaxis.set_major_locator(locator)
            axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        else:
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # band numbers
        self._figure(figure, caption)

    def _figure(self, figure, caption):
        image = figure_as_png_base64(figure)
        # The figure as wide as its image, so that a long caption wraps under the image instead
        # of widening the figure (figures side by side would each take a line); max-width in
        # STYLE lets it shrink in a narrower window.
        width = round(figure.get_size_inches()[0] * FIGURE_DPI)
        self._parts.append(
            f"<figure style=\"width: {width}px\"><img src=\"data:image/png;base64,{image}\" "
            f"alt=\"{escape(caption)}\"><figcaption>{escape(caption)}</figcaption></figure>")

    def html(self):
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{escape(self.title)}</title><style>{STYLE}</style></head><body>\n"
                + "\n".join(self._parts) + "\n</body></html>\n")

    def write(self, path):
        """Write the file under a temporary name and rename it: never a half-written report."""
        temporary = f"{path}.part"
        try:
            with open(temporary, "w", encoding="utf-8") as stream:
                stream.write(self.html())
            os.replace(temporary, path)
        except OSError:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
