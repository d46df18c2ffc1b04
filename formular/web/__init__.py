"""Flask only: blueprints per audience, security headers, errors, locale selection."""
