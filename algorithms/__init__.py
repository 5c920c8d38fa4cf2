"""One QgsProcessingAlgorithm per file; the provider loads ALGORITHM_CLASSES."""

from .backscatterconversion import BackscatterConversion
from .mpdi import Mpdi
from .spectralindex import SpectralIndex
from .vegetationwatercontent import VegetationWaterContent
from .watercloudforward import WaterCloudForward
from .watercloudinversion import WaterCloudInversion

ALGORITHM_CLASSES = (
    SpectralIndex,
    VegetationWaterContent,
    BackscatterConversion,
    WaterCloudForward,
    WaterCloudInversion,
    Mpdi,
)
