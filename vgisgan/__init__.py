"""vgisgan: video anomaly detection with GAN pseudo-anomalies, as a command-line workbench."""

__version__ = "0.22.0"
