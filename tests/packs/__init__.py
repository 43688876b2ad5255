"""Tests of one edition each: tests/packs/zpb_2023/, tests/packs/zpb_2024/ (tiny/ is a fixture pack)."""
