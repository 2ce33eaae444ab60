"""The only code that touches AWS and third-party services."""
