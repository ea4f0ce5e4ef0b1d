"""Memoir's data files: prompt templates, reflection examples, icons and the stylesheet.

A package so that ``importlib.resources.files("resources")`` finds them by one lookup in a checkout,
in an installed wheel and in the frozen bundle (``memory.runtime.resources`` is the only reader).
"""
