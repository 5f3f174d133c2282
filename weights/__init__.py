"""Shipped model weights (installed as the vidstyle.weights package data)."""
