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
        ("NDVI: 1.9134·NDVI² − 0.3215·NDVI (paper 000 eq. 7)", "ndvi"),
        ("NDMI: 2.15·NDMI + 0.32 (paper 000 eq. 8)", "ndmi"),
        ("NDWI: 1.44·NDWI² + 1.36·NDWI + 0.34 (paper 000 eq. 9)", "ndwi"),
        ("User polynomial: c0 + c1·x + c2·x² + …", "polynomial"),
    )
    NEGATIVE_CHOICES = (
        ("Set to 0 (counted in CLAMPED_PIXELS)", "zero"),
        ("Set to nodata", "nodata"),
        ("Keep", "keep"),
    )

    HELP = """
Estimates vegetation water content VWC (kg/m²) from a vegetation index with the empirical models of paper 000 (Chang et al.):
NDVI model: VWC = 1.9134·NDVI² − 0.3215·NDVI (eq. 7)
NDMI model: VWC = 2.15·NDMI + 0.32 (eq. 8)
NDWI model: VWC = 1.44·NDWI² + 1.36·NDWI + 0.34 (eq. 9)
User polynomial: VWC = c0 + c1·x + c2·x² + …, with COEFFICIENTS "c0, c1, c2, …" (required for this model).

INPUT is the index raster (e.g. the output of Spectral index) matching the chosen model.
Negative VWC (e.g. the NDVI model for 0 < NDVI < 0.168) is not physical: NEGATIVE sets it to 0 and counts those pixels in CLAMPED_PIXELS (default), sets it to nodata (counted in INVALID_PIXELS), or keeps it.
"""

    def define_parameters(self):
        self.add_raster_input(self.INPUT, self.tr("Vegetation index (NDVI, NDMI or NDWI)"))
        self.add_choice(self.MODEL, self.tr("Model"), self.MODEL_CHOICES)
        coefficients = QgsProcessingParameterString(
            self.COEFFICIENTS, self.tr("Polynomial coefficients c0, c1, c2, … (user polynomial)"),
            optional=True)
        coefficients.setHelp(self.tr(
            "Comma-separated, constant term first: VWC = c0 + c1·x + c2·x² + …. Required when "
            "MODEL is the user polynomial, ignored otherwise."))
        self.addParameter(coefficients)
        self.add_choice(self.NEGATIVE, self.tr("Negative VWC"), self.NEGATIVE_CHOICES)
        self.add_raster_output(self.OUTPUT, self.tr("Vegetation water content (kg/m²)"))
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
