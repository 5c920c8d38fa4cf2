"""smr:vegetationwatercontent — vegetation water content from a spectral index."""

from qgis.core import QgsProcessingException, QgsProcessingParameterString

from .base import SmrAlgorithm, parse_number_list


class VegetationWaterContent(SmrAlgorithm):
    NAME = "vegetationwatercontent"
    DISPLAY_NAME = "Vegetation water content (VWC)"
    GROUP_ID = "optical"
    COMMAND = "vegetationwatercontent"

    INPUT = "INPUT"
    MODEL = "MODEL"
    COEFFICIENTS = "COEFFICIENTS"
    NEGATIVE = "NEGATIVE"
    OUTPUT = "OUTPUT"
    CLAMPED_PIXELS = "CLAMPED_PIXELS"

    # Same order as spectralindex's INDEX for the first three, so a model can pass one enum
    # value to both; the option index is public API: append, never reorder.
    MODEL_CHOICES = (
        ("NDVI: 1.9134·NDVI² − 0.3215·NDVI (Chang et al. eq. 7)", "ndvi"),
        ("NDMI: 2.15·NDMI + 0.32 (Chang et al. eq. 8)", "ndmi"),
        ("NDWI: 1.44·NDWI² + 1.36·NDWI + 0.34 (Chang et al. eq. 9)", "ndwi"),
        ("User polynomial: c0 + c1·x + c2·x² + …", "polynomial"),
    )
    NEGATIVE_CHOICES = (
        ("Set to 0 (counted in CLAMPED_PIXELS)", "zero"),
        ("Set to nodata", "nodata"),
        ("Keep", "keep"),
    )

    HELP = """
Estimates the vegetation water content (VWC, in kg/m²) of each pixel from a vegetation index, with the empirical models of Chang et al. or a polynomial of your own. VWC is what the water cloud model needs to remove the vegetation's part of the radar backscatter.

Vegetation index: the index raster matching the chosen Model (e.g. the output of Spectral index). 'Polynomial coefficients' (COEFFICIENTS) are needed by the user polynomial only: c0, c1, c2, … separated by commas, constant term first. A negative VWC is not physical (the NDVI model gives one for NDVI between 0 and 0.168): 'Negative VWC' sets it to 0 and counts those pixels in CLAMPED_PIXELS (the default), sets it to nodata (counted in INVALID_PIXELS), or keeps it.

Equations, with x the index:
NDVI model: VWC = 1.9134·NDVI² − 0.3215·NDVI (Chang et al., eq. 7)
NDMI model: VWC = 2.15·NDMI + 0.32 (Chang et al., eq. 8)
NDWI model: VWC = 1.44·NDWI² + 1.36·NDWI + 0.34 (Chang et al., eq. 9)
User polynomial: VWC = c0 + c1·x + c2·x² + …
"""
    REFERENCE_KEYS = ("chang",)
    TAGS = ("VWC", "vegetation water content", "NDVI", "NDMI", "NDWI", "water cloud model",
            "empirical model", "polynomial")

    def define_parameters(self):
        self.add_raster_input(self.INPUT, self.tr("Vegetation index (NDVI, NDMI or NDWI)"))
        self.add_choice(self.MODEL, self.tr("Model"), self.MODEL_CHOICES)
        coefficients = QgsProcessingParameterString(
            self.COEFFICIENTS, self.tr("Polynomial coefficients c0, c1, c2, … (user polynomial)"),
            optional=True)
        coefficients.setHelp(self.tr(
            "Comma-separated, constant term first: VWC = c0 + c1·x + c2·x² + …, e.g. "
            "'0.34, 1.36, 1.44'. Required when the Model is the user polynomial, ignored "
            "otherwise."))
        self.addParameter(coefficients)
        self.add_choice(self.NEGATIVE, self.tr("Negative VWC"), self.NEGATIVE_CHOICES)
        self.add_raster_output(self.OUTPUT, self.tr("Vegetation water content (kg/m²)"),
                               style="vwc")
        self.add_count_output(self.CLAMPED_PIXELS, self.tr("Negative VWC pixels set to 0"))

    def command_parameters(self, parameters, context, feedback):
        text = self.parameterAsString(parameters, self.COEFFICIENTS, context) or ""
        if self.choice(parameters, self.MODEL, context) != "polynomial":
            if text.strip():
                feedback.pushInfo(self.tr("COEFFICIENTS ignored: they are used only by the "
                                          "user polynomial model."))
            return {}
        coefficients = parse_number_list(text, self.COEFFICIENTS)
        if not coefficients:
            raise QgsProcessingException(
                "COEFFICIENTS is required when MODEL is the user polynomial: give c0, c1, c2, … "
                "for VWC = c0 + c1·x + c2·x² + …, e.g. '0.34, 1.36, 1.44'.")
        return {self.COEFFICIENTS: coefficients}
