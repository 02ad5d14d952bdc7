"""Training (torch): the loop (``loop.py``), data (``dataset.py``) and one trainer per network
(``train_emodiff.py``, ``train_lips.py``)."""
