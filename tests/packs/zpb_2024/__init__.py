"""Tests of the 2024 edition (workbook_templates/zpb-2024): what changed from 2023, its samples."""
