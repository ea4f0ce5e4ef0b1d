"""Prospective reflection: finished conversations become topic memories and self-disclosures, as durable
jobs.
"""
