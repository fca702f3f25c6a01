"""The pages of the review app, one module per page."""
