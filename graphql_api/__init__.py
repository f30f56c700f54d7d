"""AuraStream: sentiment analysis over GraphQL."""

__version__ = "0.1.0"
