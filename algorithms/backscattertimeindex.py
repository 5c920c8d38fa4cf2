"""smr:backscattertimeindex — paper 003's backscatter time index of a σ⁰ time stack."""

from .base import StackAlgorithm
from .styles import OutputStyle


class BackscatterTimeIndex(StackAlgorithm):
    NAME = "backscattertimeindex"
    DISPLAY_NAME = "Backscatter time index (BTI, σ⁰ stack)"
    GROUP_ID = "radar"
    COMMAND = "backscattertimeindex"

    INPUT = "INPUT"
    INPUT_UNITS = "INPUT_UNITS"
    SCALE = "SCALE"
    MIN_OBSERVATIONS = "MIN_OBSERVATIONS"
    OUTPUT = "OUTPUT"
    SERIES_PIXELS = "SERIES_PIXELS"
    EMPTY_PIXELS = "EMPTY_PIXELS"
    SPARSE_PIXELS = "SPARSE_PIXELS"
    FLAT_PIXELS = "FLAT_PIXELS"

    # Option indexes are public API (saved models store them): append, never reorder.
    UNIT_CHOICES = (("dB", "db"), ("linear power", "linear"))

    HELP = """
Rescales each pixel's radar backscatter time series to 0–1 between its own lowest and highest value: the backscatter time index (BTI) of Lv et al. (2021). The index keeps the seasonal rise and fall of σ⁰ that wetter soil causes while removing the pixel's own level (roughness, land cover); use it as a soil-moisture predictor from a σ⁰ time stack such as ASCAT or Sentinel-1.

'Backscatter σ⁰ stack' has one band per date. 'Units of the input' says whether it holds dB or linear power (m²/m²); 'Scale in which the index is taken' is the scale of the minimum, maximum and index (default dB, as Lv et al. normalise ASCAT σ⁰ at 40°, σ40); the input is converted first when the two differ. A linear σ⁰ ≤ 0 has no dB value: that date is treated as nodata.

Nodata: a nodata date stays nodata in the output and the pixel's other dates still get their index. A pixel with no valid date (counted in EMPTY_PIXELS), with fewer valid dates than 'Valid dates a pixel needs' (MIN_OBSERVATIONS, default 2, at most the number of bands; SPARSE_PIXELS) or with the same σ⁰ at every valid date (the index is 0/0; FLAT_PIXELS) is nodata at every date. SERIES_PIXELS counts the pixels whose index was computed. The output is a stack of the same bands and band descriptions (dates) as the input, with values 0 to 1 (dimensionless); the same values come out for any number of threads.

Equation, per pixel over its valid dates t (Lv et al. 2021): BTI_t = (σ⁰_t − min_t σ⁰)/(max_t σ⁰ − min_t σ⁰).
"""
    REFERENCE_KEYS = ("lv2021",)
    TAGS = ("BTI", "backscatter time index", "ASCAT", "Sentinel-1", "SAR", "σ⁰", "sigma0",
            "backscatter", "time series", "stack", "normalisation")

    def define_parameters(self):
        self.add_stack_input(self.INPUT, self.tr("Backscatter σ⁰ stack (band = date)"))
        self.add_choice(self.INPUT_UNITS, self.tr("Units of the input"), self.UNIT_CHOICES)
        self.add_choice(self.SCALE, self.tr("Scale in which the index is taken"),
                        self.UNIT_CHOICES)
        self.add_number(self.MIN_OBSERVATIONS,
                        self.tr("Valid dates a pixel needs (2 to the number of bands)"), 2,
                        minimum=2, integer=True)
        self.add_threads_parameter(self.tr("Number of threads of the smr core; 0 uses all "
                                           "cores. The output is the same for any number."))
        self.add_creation_options_parameter(
            "GeoTIFF: tiled, DEFLATE, PREDICTOR=3, band-interleaved, BIGTIFF=IF_SAFER")
        self.add_raster_output(self.OUTPUT, self.tr("Backscatter time index (stack)"),
                               style=OutputStyle("fraction", "BTI"))
        self.add_count_output(self.SERIES_PIXELS, self.tr("Pixels whose index was computed"))
        self.add_count_output(self.EMPTY_PIXELS, self.tr("Pixels without a valid date"))
        self.add_count_output(self.SPARSE_PIXELS,
                              self.tr("Pixels with fewer valid dates than needed "
                                      "(MIN_OBSERVATIONS)"))
        self.add_count_output(self.FLAT_PIXELS,
                              self.tr("Pixels with the same σ⁰ at every date (index undefined)"))
