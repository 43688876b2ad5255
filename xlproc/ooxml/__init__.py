"""Zip and XML text helpers shared by the reader, the annotator and the report writer."""
