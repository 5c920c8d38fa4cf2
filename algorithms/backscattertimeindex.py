"""smr:backscattertimeindex — paper 003's backscatter time index of a σ⁰ time stack."""

from .base import StackAlgorithm


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
The backscatter time index (BTI) of paper 003 (Lv et al.), per pixel over its time series:
BTI_t = (σ⁰_t − min_t σ⁰)/(max_t σ⁰ − min_t σ⁰)
so each date gets 0 at the pixel's lowest σ⁰ and 1 at its highest: the seasonal position of σ⁰, which wetter soil raises, without the pixel's own level (roughness, land cover). Paper 003 normalises ASCAT σ⁰ (σ40) in dB.

INPUT is a σ⁰ stack, one band per date; INPUT_UNITS says whether it holds dB or linear power (m²/m²). SCALE is the scale in which the minimum, maximum and index are taken (default dB, as paper 003); the input is converted first when the two differ. A linear σ⁰ ≤ 0 has no dB value: that date is treated as nodata.

Nodata: a nodata date stays nodata in the output and the pixel's other dates still get their index. A pixel with no valid date (counted in EMPTY_PIXELS), with fewer valid dates than MIN_OBSERVATIONS (default 2, at most the number of bands; SPARSE_PIXELS) or with the same σ⁰ at every valid date (max = min, the index is 0/0; FLAT_PIXELS) is nodata at every date. SERIES_PIXELS counts the pixels whose index was computed. The output is a stack of the same bands and band descriptions (dates) as INPUT, values 0 to 1 (dimensionless); the same values come out for any number of THREADS.
"""

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
        self.add_raster_output(self.OUTPUT, self.tr("Backscatter time index (stack)"))
        self.add_count_output(self.SERIES_PIXELS, self.tr("Pixels whose index was computed"))
        self.add_count_output(self.EMPTY_PIXELS, self.tr("Pixels without a valid date"))
        self.add_count_output(self.SPARSE_PIXELS,
                              self.tr("Pixels with fewer valid dates than MIN_OBSERVATIONS"))
        self.add_count_output(self.FLAT_PIXELS,
                              self.tr("Pixels with the same σ⁰ at every date (index undefined)"))
