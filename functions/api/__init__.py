"""The public REST API's Lambda function."""
