"""The pipeline's driver: the runner (inputs -> engine -> tasks -> one table) and its resumable sink.

Example:
    >>> from imagevars.pipeline.runner import run
    >>> from imagevars.tasks import get_task
    >>> table = run([get_task("quality")], "PHOTOS/", "vars.parquet")  # doctest: +SKIP
"""
