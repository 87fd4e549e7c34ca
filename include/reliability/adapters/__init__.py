"""Adapters to the outside systems every job publishes to: Pushgateway, Slack and the JSON-lines log."""
