"""The single source of Reelgate's version string."""

__version__ = "0.1.0"
APP_NAME = "Reelgate"
APP_ID = "app.phaseo.Reelgate"
