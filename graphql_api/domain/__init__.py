"""Plain data and rules: no GraphQL, no AWS."""
