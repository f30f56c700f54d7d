"""The GraphQL layer: it translates between GraphQL and the services, and decides nothing."""
