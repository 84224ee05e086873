"""Telling merchants' systems what happened: the event log's API and signed webhooks."""
