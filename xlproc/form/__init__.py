"""The form edition: spec, rubric, YAML loading, compute operations and cell layout."""
