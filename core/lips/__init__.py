"""The lips stage: phone inventory, transcript alignment and speech recognition, acoustic phone scores, and the
rule-based mouth track that phones drive (blended with the lip network's mouth in ``core/pipeline.py``)."""
