"""One module per ``xlproc`` command; each registers itself on ``base.app`` when imported."""
