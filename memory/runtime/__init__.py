"""Plumbing every layer may use: where data lives, settings, the offline switch, the serial lane, resource
files, text cleaning.
"""
