"""Synthetic registry extracts, source files and ground truth; the public entry is `pipeline.demo_data`."""
