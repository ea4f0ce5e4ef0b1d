"""Benchmarks of Memoir's memory on public datasets (run by ``memoir bench``)."""
