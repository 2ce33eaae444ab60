"""Development tools that are not part of the deployed functions."""
