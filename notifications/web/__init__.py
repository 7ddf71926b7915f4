"""The notifier's web side: the REST API for clients, the inbox and settings pages for members."""
