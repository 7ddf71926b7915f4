"""Notifications: tells both parties of a match, once each, on the channels they chose."""
