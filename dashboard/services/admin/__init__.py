"""What HQ administers: the tier tables and the rule settings."""
