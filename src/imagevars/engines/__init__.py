"""Engines: where the runner's inputs are decoded and preprocessed. ``local``: processes on this machine."""
