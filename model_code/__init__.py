"""The card-fraud model: synthetic data, SageMaker job entry points, and the inference server.

No infrastructure code lives here; the image built from `model_code/Dockerfile` runs all of it.
"""

__version__ = "0.1.0"
