"""The one-machine Remit stack behind `make run`, and helpers the tests share with it."""
