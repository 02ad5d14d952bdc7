"""The repository root is the ``dreamtalk`` package: map it and find its subpackages."""
import os

from setuptools import setup

SKIP = {"tests", "build", "dist", ".git", ".ci", "venv", ".venv", "docs", "data", "runs"}


def packages():
    found = ["dreamtalk"]
    for d, dirs, files in os.walk("."):
        dirs[:] = [x for x in dirs if x not in SKIP and not x.startswith(".") and not x.endswith(".egg-info")]
        if d != "." and "__init__.py" in files:
            found.append("dreamtalk." + os.path.relpath(d).replace(os.sep, "."))
    return sorted(found)


setup(packages=packages(), package_dir={"dreamtalk": "."})
