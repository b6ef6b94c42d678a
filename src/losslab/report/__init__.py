"""The lab in one command: loss cards, and ``losslab report`` (see ``_run``)."""
