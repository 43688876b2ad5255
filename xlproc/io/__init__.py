"""Files and processes outside Python: atomic writes and LibreOffice headless."""
