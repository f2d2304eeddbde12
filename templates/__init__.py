"""Template specs, shipped as package data (``shixiang_xl.templates``)."""
