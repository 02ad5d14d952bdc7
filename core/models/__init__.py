"""Networks: EmoDiff (diffusion denoiser + style encoder) and lip refinement, in torch (training) and numpy (inference).

The torch modules are imported only by training code; inference uses :mod:`.numpy_nn`.
"""
