"""Tests of the 2023 edition (workbook_templates/zpb-2023): its samples, rule catalogue and wording."""
