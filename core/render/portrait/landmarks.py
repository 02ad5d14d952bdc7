"""Face landmarks from a portrait with mediapipe's bundled face mesh (478 points, no download).

Points come back in pixels: x right, y down, z (mediapipe's depth, scaled like x) away from the camera.
The subject's LEFT eye is on the image's RIGHT; mediapipe's "LEFT_*" sets are the subject's left.
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError

NUM_LANDMARKS = 478

# Index sets of mediapipe's canonical face mesh (ordered along each contour).
LIPS_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LIPS_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
MOUTH_CORNER_RIGHT, MOUTH_CORNER_LEFT = 61, 291
# Eyes, outer corner -> inner corner; upper and lower lid share the corners.
RIGHT_EYE_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_EYE_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_EYE_UPPER = (263, 466, 388, 387, 386, 385, 384, 398, 362)
LEFT_EYE_LOWER = (263, 249, 390, 373, 374, 380, 381, 382, 362)
RIGHT_IRIS = (468, 469, 470, 471, 472)  # centre first
LEFT_IRIS = (473, 474, 475, 476, 477)
RIGHT_BROW = (46, 53, 52, 65, 55, 70, 63, 105, 66, 107)  # outer -> inner, lower row then upper row
LEFT_BROW = (276, 283, 282, 295, 285, 300, 293, 334, 296, 336)
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
CHIN = 152
FOREHEAD = 10
NOSE_TIP = 1
NOSE_ALA_RIGHT, NOSE_ALA_LEFT = 98, 327


def _mediapipe():
    try:
        import mediapipe as mp  # optional extra: dreamtalk[render]
    except ImportError:
        raise InputError("the portrait renderer needs mediapipe: pip install dreamtalk[render]") from None
    return mp


def detect_faces(rgb: np.ndarray, max_faces: int = 5) -> list[np.ndarray]:
    """All faces in an (H, W, 3) uint8 RGB image as (478, 3) float64 pixel landmarks, largest first."""
    rgb = np.ascontiguousarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"landmark detection needs an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
    mp = _mediapipe()
    h, w = rgb.shape[:2]
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True,
                                         max_num_faces=max_faces, min_detection_confidence=0.5) as fm:
        res = fm.process(rgb)
    faces = []
    for f in res.multi_face_landmarks or []:
        a = np.array([[p.x, p.y, p.z] for p in f.landmark], dtype=np.float64)
        if a.shape[0] != NUM_LANDMARKS:
            continue  # refine_landmarks always gives 478; anything else is not the mesh we index into
        faces.append(a * np.array([w, h, w]))  # mediapipe's z is scaled by the image width like x
    faces.sort(key=lambda a: -face_size(a))
    return faces


def face_size(lm: np.ndarray) -> float:
    """Face height in pixels: forehead-top landmark to chin."""
    return float(np.hypot(*(lm[CHIN, :2] - lm[FOREHEAD, :2])))


def eye_distance(lm: np.ndarray) -> float:
    """Distance between the two iris centres in pixels (the basis' unit of length)."""
    return float(np.hypot(*(lm[LEFT_IRIS[0], :2] - lm[RIGHT_IRIS[0], :2])))
