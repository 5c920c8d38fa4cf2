"""The HTML report of every training and validation algorithm (DESIGN §7).

One self-contained .html file that QGIS shows in the Results Viewer: metrics tables, scatter plots
of estimate against reference with the 1:1 line, training curves, sensitivity panels (paper 001
Fig. 3), and the settings of the run.
Plots are PNG images made with matplotlib and embedded as base64, so the file can be mailed or
archived alone. Every string that comes from the user (layer, field and file names) is escaped.
"""

import base64
import datetime
import html
import io
import math
import os
import random

# The Agg canvas is used directly, never pyplot: matplotlib.use("Agg") would switch the backend
# of the whole QGIS process (plots of the Python console), and pyplot's global figure registry is
# not safe on the background thread where QGIS runs Processing algorithms.
from matplotlib.backends.backend_agg import FigureCanvasAgg
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

BIAS_CONVENTION = (
    "Sign convention: bias = mean(estimate − reference), so a positive bias means the estimate is "
    "too high and a negative one that it is too low. Paper 001 uses the opposite sign "
    "(reference − estimate). ubRMSE = √(RMSE² − bias²); NSE = 1 − Σ(estimate − reference)² / "
    "Σ(reference − mean reference)². A dash marks a metric that is undefined (fewer than 2 pairs, "
    "or a constant series for r and NSE).")

# A scatter plot of more points shows nothing more and makes the report slow to open; the points
# shown are a random subset with a fixed seed, so the same run gives the same report.
MAX_SCATTER_POINTS = 20000
SCATTER_SUBSET_SEED = 1

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
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; }
figcaption { font-size: 0.9em; color: #444; }
p.note { font-size: 0.9em; color: #444; max-width: 60em; }
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


def finite_pairs(reference, estimate):
    """(reference, estimate) lists without the pairs where either value is missing."""
    kept = [(r, e) for r, e in zip(reference, estimate)
            if not is_missing(r) and not is_missing(e)]
    return [r for r, _ in kept], [e for _, e in kept]


def thin_out(reference, estimate, maximum=MAX_SCATTER_POINTS):
    """At most `maximum` pairs, chosen at random with a fixed seed and kept in their order."""
    if len(reference) <= maximum:
        return reference, estimate
    chosen = sorted(random.Random(SCATTER_SUBSET_SEED).sample(range(len(reference)), maximum))
    return [reference[i] for i in chosen], [estimate[i] for i in chosen]


def figure_as_png_base64(figure):
    FigureCanvasAgg(figure)
    # tight_layout rather than savefig(bbox_inches="tight"), which draws the figure twice.
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class ScatterPanel:
    """One scatter plot: a title (e.g. "Test") and the pairs it shows.

    total: how many pairs the plotted ones were drawn from, when the caller passes a sample
    (validationmetrics gets at most MAX_PLOT_PAIRS pairs from the core); by default all are given.
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

    def heading(self, text):
        self._parts.append(f"<h2>{escape(text)}</h2>")

    def paragraph(self, text, note=False):
        css_class = ' class="note"' if note else ""
        self._parts.append(f"<p{css_class}>{escape(text)}</p>")

    def definition_table(self, rows):
        """A two-column table of (label, value) rows, e.g. the settings of a run."""
        body = "".join(
            f"<tr><th scope=\"row\">{escape(label)}</th>"
            f"<td>{escape(format_number(value))}</td></tr>"
            for label, value in rows)
        self._parts.append(f"<table>{body}</table>")

    def metrics_table(self, rows, first_column, unit=""):
        """rows: (label, {"r": …, …, "n": …}); one row per subset or group."""
        header = "".join(
            f"<th>{escape(title + (unit_suffix(unit) if key in METRICS_WITH_UNIT else ''))}</th>"
            for key, title in METRIC_COLUMNS)
        body = []
        for label, metrics in rows:
            cells = "".join(f"<td class=\"number\">{escape(format_number(metrics.get(key)))}</td>"
                            for key in METRIC_KEYS)
            body.append(f"<tr><th scope=\"row\">{escape(label)}</th>{cells}</tr>")
        self._parts.append(
            f"<table class=\"metrics\"><tr><th>{escape(first_column)}</th>{header}</tr>"
            f"{''.join(body)}</table>")

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
        self._parts.append(f"<table><tr>{head}</tr>{''.join(body)}</table>")

    def setting_panels(self, labels, panels, best_index, setting_label, unit=""):
        """Paper 001 Fig. 3: per panel (title, mean r per setting, mean RMSE per setting), r on
        the left axis and RMSE on the right against the settings, whose labels are the ticks; the
        best setting is boxed. A missing value leaves a gap in its line."""
        positions = list(range(len(labels)))
        longest = max((len(str(label)) for label in labels), default=0)
        rotation = 0 if longest <= 4 else (45 if longest <= 12 else 90)
        # Wide enough for the legend in one row and for a tick label per setting.
        figure = Figure(figsize=(max(12.0, 0.9 * len(labels) + 3.0), 7.5 + longest * 0.06))
        for number, (title, r_values, rmse_values) in enumerate(panels, start=1):
            r_axes = figure.add_subplot(2, 2, number)
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
            r_axes.set_ylabel("Mean R", color=R_COLOUR)
            rmse_axes.set_ylabel(f"Mean RMSE{unit_suffix(unit)}", color=RMSE_COLOUR)
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
                             f"the setting, as paper 001 Fig. 3; {best}.")

    def bias_convention(self):
        self.paragraph(BIAS_CONVENTION, note=True)

    def scatter_plots(self, panels, reference_label, estimate_label, unit=""):
        """One scatter plot per panel with the 1:1 line, on equal axes shared by all panels.

        The axis labels name the two quantities (e.g. "Reference sm"); the unit is appended."""
        values = [value for panel in panels for value in panel.reference + panel.estimate]
        if not values:
            self.paragraph("No pairs to plot.", note=True)
            return
        low, high = min(values), max(values)
        margin = 0.05 * (high - low) if high > low else max(abs(high) * 0.05, 1e-3)
        limits = (low - margin, high + margin)
        for panel in panels:
            self._scatter_plot(panel, reference_label, estimate_label, unit, limits)

    def _scatter_plot(self, panel, reference_label, estimate_label, unit, limits):
        reference, estimate = thin_out(panel.reference, panel.estimate)
        figure = Figure(figsize=(4.2, 4.2))
        axes = figure.add_subplot()
        axes.plot(limits, limits, color="black", linestyle="--", linewidth=1, label="1:1")
        # Smaller and more transparent markers as the points get denser.
        marker_area = 12 if len(reference) < 500 else 4
        alpha = 0.8 if len(reference) < 500 else 0.35
        axes.scatter(reference, estimate, s=marker_area, alpha=alpha, color=panel.colour,
                     edgecolors="none")
        axes.set_xlim(limits)
        axes.set_ylim(limits)
        axes.set_aspect("equal")
        axes.set_xlabel(f"{reference_label}{unit_suffix(unit)}")
        axes.set_ylabel(f"{estimate_label}{unit_suffix(unit)}")
        axes.set_title(f"{panel.title} (N = {panel.total})")
        axes.legend(loc="upper left")
        axes.grid(True, linewidth=0.3)
        caption = f"{panel.title}: estimate against reference, dashed line 1:1"
        if len(reference) < panel.total:
            caption += f"; {len(reference)} of {panel.total} pairs shown, chosen at random"
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
        axes.set_ylabel(f"RMSE{unit_suffix(unit)}")
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
        figure = Figure(figsize=(max(4.5, 3.4 * len(panels) + 0.6), 4.4))
        for number, (title, y_label, boxes) in enumerate(panels, start=1):
            axes = figure.add_subplot(1, len(panels), number)
            data = [[float(value) for value in values if not is_missing(value)]
                    for _, values in boxes]
            # Thousands of pixels put hundreds of points beyond the whiskers: small, light
            # markers keep the boxes readable.
            axes.boxplot(data, labels=[f"{label}\n(n = {len(values)})"
                                       for (label, _), values in zip(boxes, data)],
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
        self._parts.append(
            f"<figure><img src=\"data:image/png;base64,{image}\" alt=\"{escape(caption)}\">"
            f"<figcaption>{escape(caption)}</figcaption></figure>")

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
