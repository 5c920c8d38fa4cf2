"""smr:spectralindex — NDVI, NDMI, NDWI, EVI and NSDSI from reflectance bands."""

from qgis.core import QgsProcessingException

from .base import SmrAlgorithm


class SpectralIndex(SmrAlgorithm):
    NAME = "spectralindex"
    DISPLAY_NAME = "Spectral index (NDVI, NDMI, NDWI, EVI, NSDSI)"
    GROUP_ID = "optical"
    COMMAND = "spectralindex"

    INDEX = "INDEX"
    BLUE = "BLUE"
    GREEN = "GREEN"
    RED = "RED"
    NIR = "NIR"
    SWIR1 = "SWIR1"
    SWIR2 = "SWIR2"
    SCALE = "SCALE"
    OFFSET = "OFFSET"
    OUTPUT = "OUTPUT"

    # The option index is public API (a model passes the same index to vegetationwatercontent's
    # MODEL): append, never reorder.
    INDEX_CHOICES = (
        ("NDVI", "ndvi"),
        ("NDMI", "ndmi"),
        ("NDWI (McFeeters)", "ndwi"),
        ("EVI", "evi"),
        ("NSDSI1 = (S1 − S2)/S1", "nsdsi1"),
        ("NSDSI2 = (S1 − S2)/S2", "nsdsi2"),
        ("NSDSI3 = (S1 − S2)/(S1 + S2)", "nsdsi3"),
    )
    BANDS_NEEDED = {
        "ndvi": (NIR, RED),
        "ndmi": (NIR, SWIR1),
        "ndwi": (GREEN, NIR),
        "evi": (NIR, RED, BLUE),
        "nsdsi1": (SWIR1, SWIR2),
        "nsdsi2": (SWIR1, SWIR2),
        "nsdsi3": (SWIR1, SWIR2),
    }

    HELP = """
Computes a spectral index from reflectance bands. Only the bands the chosen index needs are read (and must be given); the others are ignored.

NDVI = (NIR − RED)/(NIR + RED) — paper 000 (Chang et al.) eq. 4; needs NIR, RED.
NDMI = (NIR − SWIR1)/(NIR + SWIR1) — paper 000 eq. 5; needs NIR, SWIR1.
NDWI = (GREEN − NIR)/(GREEN + NIR) (McFeeters 1996) — paper 000 eq. 6; needs GREEN, NIR.
EVI = 2.5·(NIR − RED)/(NIR + 6·RED − 7.5·BLUE + 1); needs NIR, RED, BLUE.
NSDSI (paper 003, Lv et al.) has three definitions in the literature, all offered: NSDSI1 = (S1 − S2)/S1 (the default NSDSI), NSDSI2 = (S1 − S2)/S2, NSDSI3 = (S1 − S2)/(S1 + S2), with S1 = SWIR1 (1.6 µm) and S2 = SWIR2 (2.1 µm); needs SWIR1, SWIR2.

Reflectance ρ = DN·SCALE + OFFSET is applied to every band before the index: Landsat Collection 2 Level-2 uses SCALE 2.75e-5 and OFFSET −0.2; Sentinel-2 L2A uses SCALE 1e-4 and OFFSET 0 (before processing baseline 04.00; later products need OFFSET −0.1). Keep 1 and 0 for bands already in reflectance.

The index is unitless. A zero denominator gives nodata (counted in INVALID_PIXELS).
"""

    def define_parameters(self):
        self.add_choice(self.INDEX, self.tr("Index"), self.INDEX_CHOICES)
        self.add_raster_input(self.BLUE, self.tr("Blue band (EVI)"), optional=True)
        self.add_raster_input(self.GREEN, self.tr("Green band (NDWI)"), optional=True)
        self.add_raster_input(self.RED, self.tr("Red band (NDVI, EVI)"), optional=True)
        self.add_raster_input(self.NIR, self.tr("Near-infrared band (NDVI, NDMI, NDWI, EVI)"),
                              optional=True)
        self.add_raster_input(self.SWIR1, self.tr("Shortwave infrared 1.6 µm band (NDMI, NSDSI)"),
                              optional=True)
        self.add_raster_input(self.SWIR2, self.tr("Shortwave infrared 2.1 µm band (NSDSI)"),
                              optional=True)
        self.add_number(self.SCALE, self.tr("Reflectance scale (ρ = DN·scale + offset)"), 1.0)
        self.add_number(self.OFFSET, self.tr("Reflectance offset"), 0.0)
        self.add_raster_output(self.OUTPUT, self.tr("Spectral index"))

    def raster_inputs_to_send(self, parameters, context):
        index = self.choice(parameters, self.INDEX, context)
        needed = self.BANDS_NEEDED[index]
        missing = [key for key in needed if not self.has_value(parameters, key)]
        if missing:
            label = dict((value, label) for label, value in self.INDEX_CHOICES)[index]
            raise QgsProcessingException(
                f"{label} needs {' and '.join(needed)}: set {' and '.join(missing)}.")
        # Declaration order, so the reference grid is the same whatever the index.
        return [key for key in self._raster_inputs if key in needed]
