"""One QgsProcessingAlgorithm per file; the provider loads ALGORITHM_CLASSES."""

from .applymodel import ApplyModel
from .backscatterconversion import BackscatterConversion
from .backscattertimeindex import BackscatterTimeIndex
from .calibratewatercloud import CalibrateWaterCloud
from .cdfmatching import CdfMatching
from .mpdi import Mpdi
from .pixelwisereconstruction import PixelwiseReconstruction
from .samplestacks import SampleStacks
from .sensitivityanalysis import SensitivityAnalysis
from .spectralindex import SpectralIndex
from .temporalmetrics import TemporalMetrics
from .timematching import TimeMatching
from .trainmlp import TrainMlp
from .triplecollocation import TripleCollocation
from .validationmetrics import ValidationMetrics
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
    ApplyModel,
    TrainMlp,
    ValidationMetrics,
    BackscatterTimeIndex,
    PixelwiseReconstruction,
    SensitivityAnalysis,
    TemporalMetrics,
    TripleCollocation,
    CdfMatching,
    TimeMatching,
    SampleStacks,
    CalibrateWaterCloud,
)
