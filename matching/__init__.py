"""Matching: pairs offers and needs by category and distance, and explains each pair."""
