"""The review web app: secretaries confirm or correct the model's suggestions (issue 13)."""
