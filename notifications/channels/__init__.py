"""The ways an alert leaves the notifier: e-mail over SMTP, signed webhooks, the inbox."""
