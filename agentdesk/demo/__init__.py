"""The offline demo: a realistic Chinese-language shop written as JSON fixtures."""
