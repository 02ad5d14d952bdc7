"""The phone-track share of the mouth follows the recogniser's confidence in each word."""
import numpy as np

from dreamtalk.core.lips.align import Word
from dreamtalk.core.lips.blend import RECOGNIZED_SHARE, recognized_share


def test_share_follows_word_confidence_and_is_high_between_words():
    lo, hi = RECOGNIZED_SHARE["pocketsphinx"]
    words = [Word("prickly", 0.5, 1.0, 0.14), Word("consider", 1.2, 1.8, 1.0)]
    s = recognized_share(words, 60)
    assert s.shape == (60,) and s.dtype == np.float32
    assert np.allclose(s[15:30], lo + (hi - lo) * 0.14)  # a doubted word: the network keeps most of the mouth
    assert np.allclose(s[36:54], hi) and np.allclose(s[:15], hi) and np.allclose(s[54:], hi)
    assert lo < hi <= 1.0
    assert set(RECOGNIZED_SHARE) == {"pocketsphinx", "moonshine"}
    assert all(0.0 <= a <= b <= 1.0 for a, b in RECOGNIZED_SHARE.values())
    assert np.allclose(recognized_share([Word("x", 0.0, 9.0, 5.0)], 10), hi)  # confidences are clipped to [0, 1]


def test_speech_between_recognised_words_is_left_to_the_network():
    lo, hi = RECOGNIZED_SHARE["moonshine"]
    words = [Word("me", 0.5, 1.0, 1.0)]
    pause = np.zeros(90)
    pause[:10] = 1.0  # quiet before the first word
    pause[40:50] = 0.5  # easing into a pause
    s = recognized_share(words, 90, lo=lo, hi=hi, pause=pause)
    assert np.allclose(s[:10], hi) and np.allclose(s[15:30], hi)  # a pause, and a sure word
    assert np.allclose(s[40:50], 0.5 * hi)
    assert np.allclose(s[50:], 0.0)  # loud, and no word heard: the phones' silence is not believed
    assert np.allclose(recognized_share(words, 90, lo=lo, hi=hi), recognized_share(words, 90, lo=lo, hi=hi,
                                                                                   pause=np.ones(90)))
