"""The platform's policy pack (pulumi-policy)."""
