"""site-builder: publishes the monthly appraisals of a customer service center as a static site."""

__version__ = "0.1.0"
