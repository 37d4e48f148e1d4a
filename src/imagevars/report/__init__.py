"""The report page of a table: :func:`imagevars.report.page.write_report`."""
