"""Change the sampler settings an EmoDiff weights file carries (solver, steps, spacing, guidance, clipping), only.

The parameters keep their bytes; the config is validated by EmoDiffConfig and the embedded sha256 renewed. The
sampler changes the function of the shipped model, so the version gets a ".sampler" suffix; the change is
noted in the file's training facts.

Usage: python tools/set_sampler.py WEIGHTS.npz OUT.npz key=value ... (keys: SAMPLER_KEYS; values as JSON)
"""
from __future__ import annotations

import json
import sys

SAMPLER_KEYS = ("solver", "sample_steps", "sample_spacing", "sample_guidance", "guidance_interval", "style_guidance",
                "clip_x0", "clip_range")


def main(argv: list[str]) -> int:
    """Rewrite WEIGHTS with the given sampler settings into OUT (atomically)."""
    import numpy as np

    from dreamtalk.core.fileio import atomic_path
    from dreamtalk.core.models.config import EmoDiffConfig
    from dreamtalk.core.weights import _digest, load_weights

    if len(argv) < 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    src, out, pairs = argv[0], argv[1], argv[2:]
    load_weights(src, expect_type="emodiff")  # verifies the source
    with np.load(src, allow_pickle=False) as z:
        entries = {k: z[k] for k in z.files if k != "sha256"}
    config = json.loads(str(entries["config_json"]))
    changes = {}
    for kv in pairs:
        key, _, value = kv.partition("=")
        if key not in SAMPLER_KEYS:
            print(f"set_sampler: {key!r} is not a sampler setting ({', '.join(SAMPLER_KEYS)})", file=sys.stderr)
            return 2
        changes[key] = json.loads(value)
    config.update(changes)
    config = EmoDiffConfig.from_dict(config).to_dict()  # validates
    meta = json.loads(str(entries["meta_json"]))
    meta["sampler_changes"] = meta.get("sampler_changes", []) + [changes]
    version = str(entries["model_version"])
    entries["model_version"] = np.array(version if version.endswith(".sampler") else version + ".sampler")
    entries["config_json"] = np.array(json.dumps(config, sort_keys=True))
    entries["meta_json"] = np.array(json.dumps(meta, sort_keys=True))
    entries["sha256"] = np.array(_digest(entries))
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **entries)
    print(f"{out}: {', '.join(f'{k}={v}' for k, v in changes.items())}; version {entries['model_version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
