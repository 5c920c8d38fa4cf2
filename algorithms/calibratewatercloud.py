"""smr:calibratewatercloud — the water cloud model's A, B, C, D fitted to in-situ soil moisture
(Yu et al., eq. 1–6), with K-fold or leave-one-group-out cross-validation and an HTML report.

The samples are fields of a table or vector layer (σ⁰, VWC, the incidence angle or one angle for
all, in-situ soil moisture, an optional group), read here (samples.py) and sent to the core as
SAMPLES; the core fits, cross-validates and writes the JSON parameter file. The fitted numbers are
Processing outputs, so the Graphical Modeler can wire them into smr:watercloudinversion.
"""

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from .report import HtmlReport, METRIC_KEYS, ScatterPanel, metrics_from_outputs
from .samples import LearningAlgorithm, attribute_as_number
from .watercloud import WaterCloudAlgorithm

PARAMETER_NAMES = ("A", "B", "C", "D")
# Fold colours of the held-out scatter plots (paper 002 Fig. 2 has one panel per fold).
FOLD_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
                "#17becf")
SM_UNIT = "m³/m³"
PARAMETER_FILE_FILTER = "JSON files (*.json)"
# The metric outputs: prefix of the core's keys, and what they measure.
METRIC_SETS = (
    ("SM_", "Soil moisture, final fit on every sample (eq. 6 against in situ)"),
    ("CV_SM_", "Soil moisture, held out: every fold's samples estimated by the fit on the others"),
    ("SIGMA0_", "σ⁰ in dB, final fit (the model's σ⁰ at the in-situ SM against the measured)"),
)


class CalibrateWaterCloud(LearningAlgorithm):
    NAME = "calibratewatercloud"
    DISPLAY_NAME = "Calibrate water cloud model (A, B, C, D) against in-situ soil moisture"
    GROUP_ID = "radar"
    COMMAND = "calibratewatercloud"

    SIGMA0_FIELD = "SIGMA0_FIELD"
    SIGMA0_UNIT = "SIGMA0_UNIT"
    VWC_FIELD = "VWC_FIELD"
    ANGLE_FIELD = "ANGLE_FIELD"
    ANGLE = "ANGLE"
    SOIL_MOISTURE_FIELD = "SOIL_MOISTURE_FIELD"
    POLARISATION = "POLARISATION"
    V1 = "V1"
    OBJECTIVE = "OBJECTIVE"
    CROSS_VALIDATION = "CROSS_VALIDATION"
    FOLDS = "FOLDS"
    STARTS = "STARTS"
    SEED = "SEED"
    OUTPUT_PARAMETERS = "OUTPUT_PARAMETERS"
    AT_BOUND = "AT_BOUND"
    STOP_REASON = "STOP_REASON"
    COUNT_OUTPUTS = (
        ("SAMPLES_USED", "Samples used"),
        ("SKIPPED_SAMPLES", "Features skipped (a NULL or NaN value)"),
        ("INVALID_SAMPLES", "Samples left out (σ⁰ ≤ 0 linear, VWC < 0, angle outside 0–89.9°)"),
        ("EXCLUDED_SAMPLES", "Samples with σ⁰ ≤ σ⁰_veg at the fitted A and B (no SM estimate)"),
        ("FOLD_COUNT", "Folds of the cross-validation"),
    )

    SAMPLE_FIELDS = (SIGMA0_FIELD, VWC_FIELD, SOIL_MOISTURE_FIELD)
    HELP_APPENDIX = ""

    UNIT_CHOICES = WaterCloudAlgorithm.UNIT_CHOICES
    V1_CHOICES = WaterCloudAlgorithm.V1_CHOICES
    OBJECTIVE_CHOICES = (("soil moisture, eq. 6 (as Yu et al.)", "soil_moisture"),
                         ("σ⁰ in dB", "sigma0_db"))
    CROSS_VALIDATION_CHOICES = (("K folds", "kfold"), ("leave one group out", "leave_one_group_out"),
                                ("none", "none"))

    HELP = """
Finds the water cloud model parameters A, B, C and D of your site by fitting the model to in-situ soil moisture, and tells you how well the calibrated model estimates soil moisture at stations it has not seen. Use it before Water cloud model inversion, whose A, B, C and D can take this algorithm's outputs directly in a model.

Samples: one feature per station and date of a table or vector layer (e.g. made with Sample stacks at points, or a CSV of probes with σ⁰ and VWC taken at their place and time): 'σ⁰ field' (SIGMA0_FIELD) in dB or linear ('Unit of σ⁰'), 'VWC field' in kg/m², the incidence angle in degrees from 'Incidence angle field' or, when none is given, the constant 'Incidence angle θ' (ANGLE, default 40° as Yu et al.), and 'In-situ soil moisture field' in m³/m³. One polarisation per run ('Polarisation label' is stored with the results): calibrate VV and VH separately. A feature with a NULL or NaN value is skipped (SKIPPED_SAMPLES); σ⁰ ≤ 0 in linear units, VWC < 0 or an angle outside 0–89.9° leave the sample out (INVALID_SAMPLES). Text fields holding numbers (a CSV loaded without field types) are read as numbers.

Fit: any of A, B, C and D can be held at the value typed ('Hold A fixed' …); by default B is held at 0.084 (grassland) as Yu et al. do. The others are fitted by Levenberg–Marquardt from several starts ('Starts of the fit', STARTS: the first from the values typed, the others drawn around them with the random seed, SEED), and the best is kept. C and D left empty start from a regression of the soil backscatter on soil moisture. The objective ('Fit in', OBJECTIVE) is soil moisture by eq. 6 against the in-situ values, as Yu et al. fit it (the default), or σ⁰ in dB: the model's σ⁰ at the in-situ soil moisture against the measured σ⁰. Where σ⁰ ≤ σ⁰_veg eq. 6 has no value: with the soil-moisture objective such samples (at the initial A and B) are left out of the fit and taken back once the fitted A and B allow; those left at the end are counted (EXCLUDED_SAMPLES). V1 follows Yu et al. (V1 = 1, the default) or Chang et al. (V1 = VWC): use the same V1 in the inversion. Units: A is unitless with V1 = 1 and in m²/kg with V1 = VWC; B in m²/kg; C in dB; D in dB per m³/m³.

Cross-validation ('Cross-validation', CROSS_VALIDATION): K folds (FOLDS, default 4 as Yu et al.) or leave one group out. With a 'Group field' (GROUP_FIELD: station, field, cluster), whole groups go to one fold, chosen at random by the seed, so a station is never both fitted and judged: the spatial cross-validation of Yu et al.; without it, single samples. Each fold is fitted on the others and its own samples are estimated; the report gives each fold's r, RMSE, ubRMSE and bias in soil moisture and a scatter plot per fold (as Yu et al., Fig. 2), and the outputs the pooled held-out metrics (CV_SM_RMSE, …). Then the final fit on every sample gives A, B, C, D.

Outputs: A, B, C, D and their standard errors (A_SE …, empty for a fixed parameter); the metrics of the final fit in soil moisture (SM_R, SM_RMSE, SM_UBRMSE, SM_BIAS, …, in m³/m³) and in σ⁰ (SIGMA0_RMSE, …, in dB) and the held-out ones (CV_SM_…); the JSON parameter file; the HTML report. bias = mean(estimate − reference): positive means the estimate is too high. Messages stop the run when there are too few samples (fewer than the free parameters + 1, in all or in a fold), when the in-situ soil moisture is constant, or when FOLDS exceeds the number of groups. A parameter that runs to a bound (B towards 0, A towards 0 or a huge value, D towards 0) gives a warning and is named in AT_BOUND: hold it fixed instead.

Water cloud model (Yu et al., eq. 1–6; Chang et al., eq. 1–3, 10), linear units: σ⁰ = σ⁰_veg + γ²·σ⁰_soil, γ² = exp(−2·B·VWC/cosθ), σ⁰_veg = A·V1·cosθ·(1 − γ²), σ⁰_soil[dB] = C + D·SM, so SM = (10·log10((σ⁰ − σ⁰_veg)/γ²) − C)/D. The fit runs on (log A, B, C, D), so A stays positive; standard errors are sqrt(diag((JᵀJ)⁻¹)·s²) from the Jacobian J at the optimum, s² = Σe²/(N − P), A's by the delta method (SE(A) = A·SE(log A)).
"""
    REFERENCE_KEYS = ("yu", "chang")
    TAGS = ("water cloud model", "WCM", "calibration", "A B C D", "Sentinel-1", "SAR", "σ⁰",
            "backscatter", "in situ", "cross-validation", "K-fold", "leave one group out",
            "spatial cross-validation", "Levenberg–Marquardt", "RMSE", "ubRMSE", "bias")

    def define_parameters(self):
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.INPUT_LAYER, self.tr("Samples (table or vector layer, one feature per station "
                                      "and date)"), [QgsProcessing.TypeVector]))

        def field(key, description, optional=False, help_text=None):
            parameter = QgsProcessingParameterField(
                key, description, parentLayerParameterName=self.INPUT_LAYER,
                type=QgsProcessingParameterField.Any, optional=optional)
            if help_text:
                parameter.setHelp(help_text)
            self.addParameter(parameter)

        field(self.SIGMA0_FIELD, self.tr("σ⁰ field (measured total backscatter)"))
        self.add_choice(self.SIGMA0_UNIT, self.tr("Unit of σ⁰"), self.UNIT_CHOICES)
        field(self.VWC_FIELD, self.tr("VWC field (vegetation water content, kg/m²)"))
        field(self.ANGLE_FIELD, self.tr("Incidence angle field (degrees; empty: the constant "
                                        "angle below)"), optional=True,
              help_text=self.tr("The incidence angle of each sample. Leave it empty to use "
                                "the constant 'Incidence angle θ' for every sample."))
        angle = self.add_number(self.ANGLE, self.tr("Incidence angle θ when no angle field is "
                                                    "given (degrees)"), 40.0, minimum=0.0,
                                maximum=89.9, send=False)
        angle.setHelp(self.tr("Used for every sample when no incidence angle field is given; "
                              "Yu et al. use 40°."))
        field(self.SOIL_MOISTURE_FIELD, self.tr("In-situ soil moisture field (m³/m³)"))
        field(self.GROUP_FIELD, self.tr("Group field (station, field: kept whole in one fold)"),
              optional=True,
              help_text=self.tr("Each sample's group, e.g. its station or field. Whole groups go "
                                "to one fold (spatial cross-validation); needed to leave one "
                                "group out. A feature whose group is NULL is skipped."))
        polarisation = QgsProcessingParameterString(
            self.POLARISATION, self.tr("Polarisation label (e.g. VV; one polarisation per run)"),
            "VV", optional=True)
        polarisation.setHelp(self.tr("Stored in the parameter file and shown in the report; "
                                     "calibrate each polarisation in its own run."))
        self.addParameter(polarisation)
        self.add_choice(self.V1, self.tr("V1 in σ⁰_veg = A·V1·cosθ·(1 − γ²)"), self.V1_CHOICES,
                        default=1)

        for key, description, default, minimum, maximum in (
                ("A", self.tr("A, vegetation scattering: initial or fixed value"), 0.1, 1e-9,
                 1e4),
                ("B", self.tr("B, vegetation attenuation (m²/kg): initial or fixed value"),
                 0.084, 0.0, 50.0)):
            self.add_number(key, description, default, minimum=minimum, maximum=maximum)
        for key, description, minimum, maximum in (
                ("C", self.tr("C, soil backscatter at SM = 0 (dB): initial or fixed value "
                              "(empty: from the samples)"), -100.0, 100.0),
                ("D", self.tr("D, soil backscatter slope (dB per m³/m³): initial or fixed value "
                              "(empty: from the samples)"), -1000.0, 1000.0)):
            parameter = QgsProcessingParameterNumber(
                key, description, QgsProcessingParameterNumber.Double, optional=True,
                minValue=minimum, maxValue=maximum)
            parameter.setHelp(self.tr("Empty: each start takes it from the regression of the "
                                      "soil backscatter on soil moisture. Needed when it is "
                                      "held fixed."))
            self.addParameter(parameter)
        for name in PARAMETER_NAMES:
            self.addParameter(QgsProcessingParameterBoolean(
                f"FIX_{name}", self.tr("Hold {} fixed at the value above").format(name),
                name == "B"))

        self.add_choice(self.OBJECTIVE, self.tr("Fit in"), self.OBJECTIVE_CHOICES)
        self.add_choice(self.CROSS_VALIDATION, self.tr("Cross-validation"),
                        self.CROSS_VALIDATION_CHOICES)
        folds = self.add_number(self.FOLDS, self.tr("Folds K (K folds only)"), 4, minimum=2,
                                maximum=1000, integer=True, send=False)
        folds.setHelp(self.tr("With a group field, at most the number of groups; Yu et al. use "
                              "four folds of station clusters."))
        starts = self.add_number(self.STARTS, self.tr("Starts of the fit"), 10, minimum=1,
                                 maximum=1000, integer=True)
        starts.setHelp(self.tr("The first starts from the values above, the others from values "
                               "drawn around them (A within ×/÷10, B within ×/÷3); the lowest "
                               "error is kept. One start when A and B are both fixed."))
        self.add_number(self.SEED, self.tr("Random seed (starts and folds)"), 1, minimum=0,
                        maximum=2 ** 53 - 1, integer=True)

        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_PARAMETERS, self.tr("Parameter file (JSON)"), PARAMETER_FILE_FILTER))
        self.add_report_output(self.tr("Calibration report"))

        for name in PARAMETER_NAMES:
            self.addOutput(QgsProcessingOutputNumber(name, self.tr("Calibrated {}").format(name)))
            self.addOutput(QgsProcessingOutputNumber(
                f"{name}_SE", self.tr("Standard error of {}").format(name)))
        for prefix, label in METRIC_SETS:
            for key in METRIC_KEYS:
                self.addOutput(QgsProcessingOutputNumber(
                    prefix + key.upper(), self.tr("{}: {}").format(label, key.upper())))
        for key, description in self.COUNT_OUTPUTS:
            self.add_count_output(key, self.tr(description))
        self.addOutput(QgsProcessingOutputString(
            self.AT_BOUND, self.tr("Parameters run to a bound (empty: none)")))
        self.addOutput(QgsProcessingOutputString(self.STOP_REASON,
                                                 self.tr("Why the final fit stopped")))

    # --- the request --------------------------------------------------------------------------

    def command_parameters(self, parameters, context, feedback):
        method = self.choice(parameters, self.CROSS_VALIDATION, context)
        request = {
            "FIXED": [name for name in PARAMETER_NAMES
                      if self.parameterAsBoolean(parameters, f"FIX_{name}", context)],
            self.POLARISATION: self.parameterAsString(parameters, self.POLARISATION,
                                                      context).strip(),
            "OUTPUT": self.parameterAsFileOutput(parameters, self.OUTPUT_PARAMETERS, context),
        }
        for name in ("C", "D"):
            value = self.optional_double(parameters, name, context)
            if value is not None:
                request[name] = value
            elif name in request["FIXED"]:
                raise QgsProcessingException(
                    f"Invalid value for {name} (empty): 'Hold {name} fixed' (FIX_{name}) is "
                    f"ticked, so {name} needs the value it is held at; type it, or untick "
                    f"FIX_{name} to fit it.")
        folds = self.parameterAsInt(parameters, self.FOLDS, context)
        if method == "kfold":
            request[self.FOLDS] = folds
        samples, groups = self.layer_samples(parameters, context, feedback, method, folds)
        request[self.SAMPLES] = samples
        if "angle" not in samples:
            request[self.ANGLE] = self.parameterAsDouble(parameters, self.ANGLE, context)
        return request

    def layer_samples(self, parameters, context, feedback, method, folds):
        """The core's SAMPLES from the layer's fields, after the checks a user understands
        better in terms of fields than of the core's lists; and the number of groups."""
        source = self.vector_source(parameters, context)
        roles = [(self.SIGMA0_FIELD, "sigma0"), (self.VWC_FIELD, "vwc"),
                 (self.SOIL_MOISTURE_FIELD, "soil_moisture")]
        if self.parameterAsString(parameters, self.ANGLE_FIELD, context):
            roles.insert(2, (self.ANGLE_FIELD, "angle"))
        columns, seen = [], {}
        for key, role in roles:
            name = self.parameterAsString(parameters, key, context)
            if not name:
                raise QgsProcessingException(
                    f"No {role.replace('_', ' ')} field: {key} is empty; choose the numeric field "
                    f"of {self.INPUT_LAYER} that holds it.")
            index = self.field_index(source, key, name)
            if index in seen:
                raise QgsProcessingException(
                    f"Invalid value for {key} ('{name}'): the field is also {seen[index]}; each "
                    f"of {', '.join(k for k, _ in roles)} needs its own field.")
            seen[index] = key
            columns.append((key, index))
        group_index = self.group_field_index(parameters, context, source)
        values, groups = self.read_columns(source, columns, group_index, feedback)
        samples = {role: column for (_, role), column in zip(roles, values)}

        sm_name = self.parameterAsString(parameters, self.SOIL_MOISTURE_FIELD, context)
        measured = {value for value in samples["soil_moisture"]
                    if attribute_as_number(value) is not None}
        if not measured:
            raise QgsProcessingException(
                f"Invalid value for {self.SOIL_MOISTURE_FIELD} ('{sm_name}'): none of the "
                f"{len(samples['soil_moisture'])} features of {self.INPUT_LAYER} has an in-situ "
                f"soil moisture value (all NULL); the calibration needs in-situ values.")
        if len(measured) == 1:
            raise QgsProcessingException(
                f"Invalid value for {self.SOIL_MOISTURE_FIELD} ('{sm_name}'): every feature with "
                f"a value has the soil moisture {next(iter(measured)):g}; C and D describe how "
                f"σ⁰ changes with soil moisture, so it must vary.")
        group_count = None
        if groups is not None:
            samples["groups"] = groups
            group_count = len({group for group in groups if group is not None})
            if method == "kfold" and folds > group_count:
                raise QgsProcessingException(
                    f"Invalid value for {self.FOLDS} ({folds}): {self.GROUP_FIELD} "
                    f"('{self.parameterAsString(parameters, self.GROUP_FIELD, context)}') has "
                    f"{group_count} groups, and a group is never split between folds; choose 2 "
                    f"to {group_count} folds, or leave one group out.")
        elif method == "leave_one_group_out":
            raise QgsProcessingException(
                f"Invalid value for {self.CROSS_VALIDATION} (leave one group out): it needs "
                f"{self.GROUP_FIELD}, the field naming each sample's group (station, field); set "
                f"it, or choose K folds.")
        feedback.pushInfo(f"{len(samples['sigma0'])} features read from {self.INPUT_LAYER}"
                          + (f", {group_count} groups." if group_count is not None else "."))
        return samples, group_count

    def processing_results(self, outputs):
        results = super().processing_results(outputs)
        results[self.OUTPUT_PARAMETERS] = outputs.get("OUTPUT")
        return results

    # --- the report ---------------------------------------------------------------------------

    def build_report(self, parameters, context, request, outputs):
        polarisation = request.get(self.POLARISATION) or "σ⁰"
        report = HtmlReport(f"Water cloud model calibration: {polarisation}")
        at_bound = outputs.get(self.AT_BOUND)
        if at_bound:
            report.warning(f"{at_bound} ran to a bound of the fit: the samples do not determine "
                           f"it. Hold it fixed (e.g. B at 0.084 as Yu et al.) and run again.")
        fixed = set(request.get("FIXED", []))
        report.heading("Parameters (final fit on every sample)")
        report.table(
            ["Parameter", "Value", "Standard error", "Held fixed", "Unit"],
            [(name, [outputs.get(name), outputs.get(f"{name}_SE"), name in fixed, unit])
             for name, unit in zip(PARAMETER_NAMES, (
                 "m²/kg" if request.get(self.V1) == "vwc" else "unitless", "m²/kg", "dB",
                 "dB per m³/m³"))])
        report.paragraph(
            "σ⁰ = σ⁰_veg + γ²·σ⁰_soil (linear), γ² = exp(−2·B·VWC/cosθ), σ⁰_veg = "
            f"A·V1·cosθ·(1 − γ²) with V1 = {'VWC' if request.get(self.V1) == 'vwc' else '1'}, "
            "σ⁰_soil[dB] = C + D·SM (Yu et al., eq. 1–6). Standard errors from the Jacobian at "
            "the optimum; a dash for a fixed parameter or where they are undefined.", note=True)

        report.heading("Metrics")
        report.metrics_table(
            [("Final fit, every sample", metrics_from_outputs(outputs, "SM_")),
             ("Held out, pooled over the folds", metrics_from_outputs(outputs, "CV_SM_"))],
            "Soil moisture", SM_UNIT)
        report.metrics_table([("Final fit, every sample", metrics_from_outputs(outputs, "SIGMA0_"))],
                             "σ⁰", "dB")
        report.bias_convention()

        folds = outputs.get("FOLD_METRICS") or []
        held = outputs.get("HELD_OUT") or {}
        if folds:
            report.heading("Cross-validation: each fold estimated by the fit on the others")
            report.table(
                ["Fold", "Groups held out", "N", "r", f"RMSE ({SM_UNIT})",
                 f"ubRMSE ({SM_UNIT})", f"bias ({SM_UNIT})", "A", "B", "C", "D",
                 "No estimate (σ⁰ ≤ σ⁰_veg)", "At a bound"],
                [(str(row.get("fold")), [", ".join(str(group) for group in row.get("groups") or [])
                                         or "single samples", row.get("n"), row.get("r"),
                                         row.get("rmse"), row.get("ubrmse"), row.get("bias"),
                                         row.get("a"), row.get("b"), row.get("c"), row.get("d"),
                                         row.get("undefined"),
                                         ", ".join(row.get("at_bound") or []) or "—"])
                 for row in folds])
            panels = []
            for position, row in enumerate(folds):
                number = row.get("fold")
                pairs = [(reference, estimate) for fold, reference, estimate in zip(
                    held.get("fold", []), held.get("reference", []), held.get("estimate", []))
                    if fold == number]
                panels.append(ScatterPanel(
                    f"Fold {number}", [r for r, _ in pairs], [e for _, e in pairs],
                    FOLD_COLOURS[position % len(FOLD_COLOURS)]))
            report.scatter_plots(panels, "In-situ soil moisture",
                                 "Water cloud model soil moisture (eq. 6)", SM_UNIT)
        else:
            report.paragraph("No cross-validation was run (Cross-validation: none).", note=True)

        report.heading("Final fit: estimated against in-situ soil moisture")
        predictions = outputs.get("PREDICTIONS") or {}
        report.scatter_plots([ScatterPanel("Every sample", predictions.get("reference", []),
                                           predictions.get("estimate", []))],
                             "In-situ soil moisture", "Water cloud model soil moisture (eq. 6)",
                             SM_UNIT)

        report.heading("Settings")
        method = request.get(self.CROSS_VALIDATION)
        report.definition_table([
            ("Samples used", outputs.get("SAMPLES_USED")),
            ("Features skipped (a NULL or NaN value)", outputs.get("SKIPPED_SAMPLES")),
            ("Samples left out (invalid σ⁰, VWC or angle)", outputs.get("INVALID_SAMPLES")),
            ("Samples without an SM estimate at the fitted A and B (σ⁰ ≤ σ⁰_veg)",
             outputs.get("EXCLUDED_SAMPLES")),
            ("Unit of σ⁰", request.get(self.SIGMA0_UNIT)),
            ("Incidence angle", "per sample (field)" if "angle" in request[self.SAMPLES]
             else f"{request.get(self.ANGLE):g}° for every sample"),
            ("Fit in", request.get(self.OBJECTIVE)),
            ("Cross-validation", f"{method}, {outputs.get('FOLD_COUNT')} folds"
             if method != "none" else "none"),
            ("Starts of the fit (STARTS)", request.get(self.STARTS)),
            ("Start kept in the final fit", (outputs.get("BEST_START") or 0) + 1),
            ("Why the final fit stopped", outputs.get(self.STOP_REASON)),
            ("Random seed (SEED)", request.get(self.SEED)),
            ("Parameter file", outputs.get("OUTPUT")),
        ])
        return report
