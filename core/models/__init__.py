"""Networks: EmoDiff (diffusion denoiser + style encoder) and lip refinement, in torch (training) and numpy (inference).

Inference: ``emodiff_numpy.py`` and ``lips_numpy.py`` on the shared numpy layers of ``layers.py``, loaded as one
bundle by ``bundle.load_models``. Training: ``emodiff_torch.py`` and ``lips_torch.py`` (imported only by training
code); ``config.py`` holds the configurations of both.
"""
