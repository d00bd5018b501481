#!/usr/bin/env python3
"""Parses an OpenMetrics text exposition from stdin with the Prometheus project's own parser
(strict: a malformed line, a missing `# EOF` or a bad family fails) and prints its samples
as JSON lines: {"name", "labels", "value"}. Used by crates/cli/tests/metrics.rs."""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        print(json.dumps({"name": s.name, "labels": s.labels, "value": s.value}))
