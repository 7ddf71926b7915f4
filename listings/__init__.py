"""Listings: organisations post offers and needs; every change leaves through the outbox."""
