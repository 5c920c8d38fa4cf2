"""The HTML help pages in docs/: one per algorithm and an index, from the algorithms themselves.

The pages are generated from what the dialog shows (shortHelpString, the parameters' labels, keys,
types, defaults and help, the outputs) and the references of references.py, so the two cannot say
different things. scripts/build-docs writes them; tests/plugin/test_help.py fails when a committed
page differs from what this module generates. Each algorithm's helpUrl() opens its page, so the
Help button works without a network.
"""

import html

from qgis.core import QgsProcessingParameterDefinition, QgsProcessingParameterNumber

from . import ALGORITHM_CLASSES
from .base import GROUPS, enum_values_help
from .references import PAPER_KEYS, REFERENCES, full_reference

PROVIDER_ID = "smr"
INDEX_PAGE = "index.html"
STYLESHEET = "help.css"  # one stylesheet that every page links to

# Parameter types as a user reads them (QgsProcessingParameterDefinition.type() otherwise).
TYPE_NAMES = {
    "raster": "raster layer",
    "band": "band number",
    "number": "number",
    "enum": "choice (give the number)",
    "string": "text",
    "field": "field name",
    "source": "vector layer or table",
    "multilayer": "list of raster layers",
    "file": "file",
    "boolean": "boolean (true/false)",
    "rasterDestination": "output raster file",
    "fileDestination": "output file",
    "sink": "output vector layer or table",
}

STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 1em auto; padding: 0 1em;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
code { background: #f3f3f3; padding: 0 0.2em; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
.meta { color: #555; }
""".strip()


def escape(text):
    return html.escape(text, quote=False)


def algorithm_instances():
    """Every algorithm of the provider, initialised, in the provider's order."""
    algorithms = []
    for algorithm_class in ALGORITHM_CLASSES:
        algorithm = algorithm_class()
        algorithm.initAlgorithm()
        algorithms.append(algorithm)
    return algorithms


def page_name(algorithm):
    return f"{algorithm.name()}.html"


def _page(title, body):
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n"
            f"<link rel=\"stylesheet\" href=\"{STYLESHEET}\">\n</head>\n"
            f"<body>\n{body}</body>\n</html>\n")


def help_html(text):
    """The dialog's help as HTML: a paragraph per line, as QGIS shows it, and '•' lines as lists."""
    parts, items = [], []
    for line in text.split("\n"):
        line = line.strip()
        if line.startswith("•"):
            items.append(f"<li>{escape(line[1:].strip())}</li>")
            continue
        if items:
            parts.append("<ul>\n" + "\n".join(items) + "\n</ul>")
            items = []
        if line:
            parts.append(f"<p>{escape(line)}</p>")
    if items:
        parts.append("<ul>\n" + "\n".join(items) + "\n</ul>")
    return "\n".join(parts) + "\n"


def format_value(value):
    """A default value as a user would type it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(item) for item in value) or "—"
    return str(value)


def describe_type(definition):
    """'number (integer, 0 to 10)', 'choice (give the number)', …"""
    kind = definition.type()
    text = TYPE_NAMES.get(kind, kind)
    if kind == "number":
        integer = definition.dataType() == QgsProcessingParameterNumber.Integer
        limits = []
        # QGIS stores "no limit" as ±DBL_MAX (or ±INT_MAX for integers).
        if abs(definition.minimum()) < 1e300 and definition.minimum() > -2147483647:
            limits.append(f"from {format_value(definition.minimum())}")
        if abs(definition.maximum()) < 1e300 and definition.maximum() < 2147483647:
            limits.append(f"to {format_value(definition.maximum())}")
        text += " (" + ", ".join(["integer" if integer else "decimal"] + limits) + ")"
    return text


def parameter_rows(algorithm):
    rows = []
    for definition in algorithm.parameterDefinitions():
        flags = definition.flags()
        if flags & QgsProcessingParameterDefinition.FlagHidden:
            continue
        default = definition.defaultValue()
        if flags & QgsProcessingParameterDefinition.FlagOptional:
            status = "no"
        elif default is None or default == "":
            status = "yes"
        else:
            status = "no (the default is used)"
        if flags & QgsProcessingParameterDefinition.FlagAdvanced:
            status += "; advanced"
        notes = definition.help()
        if definition.type() == "enum":
            # The list below says it in a table's form.
            notes = notes.replace(enum_values_help(definition), "").strip()
            options = "".join(f"<li><code>{number}</code> = {escape(label)}</li>"
                              for number, label in enumerate(definition.options()))
            notes = escape(notes) + f"<ul>{options}</ul>"
        else:
            notes = escape(notes)
        rows.append(
            f"<tr><td>{escape(definition.description())}</td>"
            f"<td><code>{escape(definition.name())}</code></td>"
            f"<td>{escape(describe_type(definition))}</td>"
            f"<td>{escape(format_value(default))}</td>"
            f"<td>{status}</td><td>{notes}</td></tr>")
    return rows


def output_rows(algorithm):
    return [f"<tr><td>{escape(output.description())}</td>"
            f"<td><code>{escape(output.name())}</code></td>"
            f"<td>{escape(output.type())}</td></tr>"
            for output in algorithm.outputDefinitions()]


def algorithm_page(algorithm):
    algorithm_id = f"{PROVIDER_ID}:{algorithm.name()}"
    group_name = GROUPS[algorithm.groupId()][0]
    body = [
        f"<p class=\"meta\"><a href=\"{INDEX_PAGE}\">Soil moisture retrieval (SMR)</a> ▸ "
        f"{escape(group_name)}</p>\n",
        f"<h1>{escape(algorithm.displayName())}</h1>\n",
        f"<p class=\"meta\">Algorithm id <code>{algorithm_id}</code> · search words: "
        f"{escape(', '.join(algorithm.tags()))}</p>\n",
        help_html(algorithm.shortHelpString()),
        "<h2>Parameters</h2>\n",
        "<p>The label is what the dialog shows; the key is what <code>processing.run</code> and "
        f"<code>qgis_process run {algorithm_id} -- KEY=VALUE …</code> take. QGIS 3.22's "
        "qgis_process takes a choice as its number (e.g. <code>DIVISION=3</code>), never its "
        "label.</p>\n",
        "<table>\n<tr><th>Label</th><th>Key</th><th>Type</th><th>Default</th><th>Required</th>"
        "<th>Notes</th></tr>\n",
        "\n".join(parameter_rows(algorithm)) + "\n</table>\n",
        "<h2>Outputs</h2>\n",
        "<table>\n<tr><th>Description</th><th>Key</th><th>Type</th></tr>\n",
        "\n".join(output_rows(algorithm)) + "\n</table>\n",
    ]
    return _page(f"{algorithm.displayName()} ({algorithm_id})", "".join(body))


def index_page(algorithms):
    body = ["<h1>Soil moisture retrieval (SMR): algorithms</h1>\n",
            "<p>The Processing provider <code>smr</code> of QGIS. Each page is the algorithm's "
            "help as the dialog shows it, with every parameter and output.</p>\n"]
    for group_id, (group_name, _) in GROUPS.items():
        members = [algorithm for algorithm in algorithms if algorithm.groupId() == group_id]
        if not members:
            continue
        body.append(f"<h2>{escape(group_name)}</h2>\n<ul>\n")
        for algorithm in members:
            body.append(f"<li><a href=\"{page_name(algorithm)}\">"
                        f"{escape(algorithm.displayName())}</a> "
                        f"(<code>{PROVIDER_ID}:{algorithm.name()}</code>): "
                        f"{escape(algorithm.shortDescription())}</li>\n")
        body.append("</ul>\n")
    body.append("<h2>Papers</h2>\n<ol start=\"0\">\n")
    body.extend(f"<li>{escape(full_reference(key))}</li>\n" for key in PAPER_KEYS)
    body.append("</ol>\n<h2>Other references</h2>\n<ul>\n")
    body.extend(f"<li>{escape(full_reference(key))}</li>\n"
                for key in REFERENCES if key not in PAPER_KEYS)
    body.append("</ul>\n")
    return _page("Soil moisture retrieval (SMR): algorithms", "".join(body))


def expected_pages():
    """{file name in docs/: its text} for the provider as it is now."""
    algorithms = algorithm_instances()
    pages = {page_name(algorithm): algorithm_page(algorithm) for algorithm in algorithms}
    pages[INDEX_PAGE] = index_page(algorithms)
    pages[STYLESHEET] = STYLE + "\n"
    return pages


def write_pages(directory):
    """Write every page into `directory` and remove pages of algorithms that no longer exist;
    returns the names of the files written or removed because they changed."""
    directory.mkdir(parents=True, exist_ok=True)
    pages = expected_pages()
    changed = []
    for name, text in pages.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    for path in directory.glob("*.html"):
        if path.name not in pages:
            path.unlink()
            changed.append(path.name)
    return sorted(changed)
