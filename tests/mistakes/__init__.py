"""A corpus of clerk mistakes planted into the clean sample workbooks (issue 11.5).

``corpus.generate`` lists planted mistakes and benign variants, deterministically;
``corpus.materialize`` writes one as a real workbook (some through LibreOffice);
``corpus.evaluate`` checks it and says whether the mistake was found, and at its cell.
Used by tests/test_mistakes.py (a sample) and benchmarks/accuracy.py (all of it).
"""
