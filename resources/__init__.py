"""Reelgate's bundled, non-code resources: icons, the Qt stylesheet and Linux desktop metadata.

Use :mod:`resources.paths` to locate them; it works from a source checkout and from a
PyInstaller bundle alike.
"""
