"""Pack → blank workbook (xlsxwriter), its 填表说明, and filled copies for samples and tests."""

from .build import META_SHEET, field_name, table_name, write_template

__all__ = ["META_SHEET", "field_name", "table_name", "write_template"]
