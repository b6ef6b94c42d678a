"""The lab in one command: loss cards (``cards``) and ``losslab report`` (``build_report``)."""

from ._run import COMPLETE, build_report, exchange, recover

__all__ = ["COMPLETE", "build_report", "exchange", "recover"]
