"""Suricata-compatible network rules (a subset): parser, matcher, prefilter, detector."""
