"""The lab in one command: loss cards (``cards``) and ``losslab report`` (``build_report``)."""

from ._run import build_report

__all__ = ["build_report"]
