"""The water cloud model parameters shared by smr:watercloudforward and smr:watercloudinversion."""

from qgis.core import QgsProcessingParameterEnum, QgsProcessingParameterNumber

from .base import SmrAlgorithm
from .styles import OutputStyle

# Polarisation -> (A, B) when A or B is left empty. Neither paper 000 nor paper 002 publishes
# calibrated values per polarisation (paper 002 gives B = 0.084 for grassland), so these are the
# sample scene's (core/src/commands/samplescene.cpp): starting points, said so in the help. The
# option index is public API (saved models store it): append, never reorder; VV first, since
# A 0.12 and B 0.09 were the defaults before A and B could be left empty.
POLARISATION_DEFAULTS = (("VV", 0.12, 0.09), ("VH", 0.035, 0.14))

# Linear units throughout; paper 000 eq. 1–3 and 10, paper 002 eq. 2, 4, 5.
WATER_CLOUD_HELP = """
A and B describe the vegetation: A its scattering, B its attenuation. They depend on the crop, the polarisation and the incidence angle and are best calibrated against in-situ data of your site. Left empty, they take the defaults of the chosen Polarisation (POLARISATION): VV A 0.12, B 0.09; VH A 0.035, B 0.14. These are the values of the plugin's sample scene, starting points rather than calibrated values (Yu et al. calibrate A and use B = 0.084 for grassland in VH); a value typed in A or B always wins. V1 follows Chang et al. (V1 = VWC, the default) or Yu et al. (V1 = 1); the attenuation uses VWC in both. Units: VWC in kg/m²; θ, the local incidence angle, in degrees; B in m²/kg; A in m²/kg with V1 = VWC and unitless with V1 = 1; σ⁰ in dB or linear as the unit parameters say.

Water cloud model (linear units; σ⁰ in dB is converted first): σ⁰ = σ⁰_veg + γ²·σ⁰_soil, with the two-way attenuation γ² = exp(−2·B·VWC·secθ) and the vegetation term σ⁰_veg = A·V1·cosθ·(1 − γ²) (Chang et al., eq. 1–3, whose eq. 2 prints "cos(1 − r²)", a typo for cosθ·(1 − γ²); Yu et al., eq. 2, 4, 5).
"""


class WaterCloudAlgorithm(SmrAlgorithm):
    GROUP_ID = "radar"

    VWC = "VWC"
    ANGLE = "ANGLE"
    ANGLE_CONSTANT = "ANGLE_CONSTANT"
    POLARISATION = "POLARISATION"
    A = "A"
    B = "B"
    V1 = "V1"
    OUTPUT_UNIT = "OUTPUT_UNIT"
    OUTPUT = "OUTPUT"

    UNIT_CHOICES = (("dB", "db"), ("linear", "linear"))
    V1_CHOICES = (("VWC (Chang et al.)", "vwc"), ("1 (Yu et al.)", "one"))

    def add_vegetation_parameters(self):
        """VWC, the incidence angle, the polarisation, A, B, V1 and the output unit, in the
        dialog's order."""
        self.add_raster_input(self.VWC, self.tr("Vegetation water content VWC (kg/m²)"))
        self.add_raster_input(self.ANGLE, self.tr("Incidence angle θ raster (degrees)"),
                              optional=True)
        angle = self.add_number(self.ANGLE_CONSTANT,
                                self.tr("Incidence angle θ when no raster is given (degrees)"),
                                40.0, minimum=0.0, maximum=89.999, send=False)
        angle.setHelp(self.tr("Used for every pixel when no incidence angle raster is given "
                              "(ANGLE); Yu et al. use 40°."))
        # Optional and sent by command_parameters, so that empty means "the polarisation's
        # default"; not part of the core's request.
        polarisation = QgsProcessingParameterEnum(
            self.POLARISATION, self.tr("Polarisation (sets the default A and B)"),
            [label for label, _, _ in POLARISATION_DEFAULTS], defaultValue=0, optional=True)
        polarisation.setHelp(self.tr(
            "The polarisation of the backscatter. It only chooses the values A and B take when "
            "they are left empty: {}.").format("; ".join(
                f"{label} A {a:g}, B {b:g}" for label, a, b in POLARISATION_DEFAULTS)))
        self.addParameter(polarisation)
        for key, description, help_text in (
                (self.A, self.tr("A, vegetation scattering (m²/kg with V1 = VWC, unitless with "
                                 "V1 = 1; empty: the polarisation's default)"),
                 self.tr("σ⁰_veg = A·V1·cosθ·(1 − γ²). Empty: VV 0.12, VH 0.035 (the sample "
                         "scene's values; calibrate A for your site).")),
                (self.B, self.tr("B, vegetation attenuation (m²/kg; empty: the polarisation's "
                                 "default)"),
                 self.tr("γ² = exp(−2·B·VWC·secθ). Empty: VV 0.09, VH 0.14 (the sample scene's "
                         "values; Yu et al. use 0.084 for grassland)."))):
            parameter = QgsProcessingParameterNumber(
                key, description, QgsProcessingParameterNumber.Double, optional=True,
                minValue=0.0)
            parameter.setHelp(help_text)
            self.addParameter(parameter)
        self.add_choice(self.V1, self.tr("V1 in σ⁰_veg = A·V1·cosθ·(1 − γ²)"), self.V1_CHOICES)
        self.add_choice(self.OUTPUT_UNIT, self.tr("Output unit"), self.UNIT_CHOICES)

    def command_parameters(self, parameters, context, feedback):
        request = self.vegetation_request(parameters, context, feedback)
        # The core's ANGLE is either a raster object (sent by the base) or a plain number.
        if not self.has_value(parameters, self.ANGLE):
            request[self.ANGLE] = self.parameterAsDouble(parameters, self.ANGLE_CONSTANT, context)
        return request

    def vegetation_request(self, parameters, context, feedback):
        """A and B as given, or the chosen polarisation's defaults where left empty."""
        # QGIS refuses an option number out of range before the algorithm runs.
        index = self.parameterAsEnum(parameters, self.POLARISATION, context)
        label, default_a, default_b = POLARISATION_DEFAULTS[index]
        request = {}
        for key, default in ((self.A, default_a), (self.B, default_b)):
            value = self.optional_double(parameters, key, context)
            if value is None:
                value = default
                feedback.pushInfo(f"{key} not given: {default:g}, the {label} default "
                                  f"({self.POLARISATION} = {index}).")
            request[key] = value
        return request

    def output_style(self, key, path, parameters, context):
        if key != self.OUTPUT:
            return super().output_style(key, path, parameters, context)
        # OUTPUT is σ⁰ in the unit chosen in OUTPUT_UNIT; OUTPUT_NAME says which σ⁰.
        if self.choice(parameters, self.OUTPUT_UNIT, context) == "db":
            return OutputStyle("sigma0_db", f"{self.OUTPUT_NAME} (dB)")
        return OutputStyle("sigma0_linear", f"{self.OUTPUT_NAME} (linear)")
