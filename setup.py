"""The repository root is the ``dreamtalk`` package: map it and find its subpackages."""
import os

from setuptools import setup
from setuptools.command.build_py import build_py

# Top-level folders that are not part of the package (a subpackage may share a name: core/data is one).
SKIP = {"tests", "build", "dist", ".git", ".ci", "venv", ".venv", "docs", "data", "runs"}


def packages():
    found = ["dreamtalk"]
    for d, dirs, files in os.walk("."):
        dirs[:] = [x for x in dirs if not (d == "." and x in SKIP) and not x.startswith(".")
                   and not x.endswith(".egg-info") and x != "__pycache__"]
        if d != "." and "__init__.py" in files:
            found.append("dreamtalk." + os.path.relpath(d).replace(os.sep, "."))
    return sorted(found)


class BuildPy(build_py):
    """Leave this build script out of the installed package (it sits in the package's root folder)."""

    def find_package_modules(self, package, package_dir):
        mods = super().find_package_modules(package, package_dir)
        return [m for m in mods if not (package == "dreamtalk" and m[1] == "setup")]


setup(packages=packages(), package_dir={"dreamtalk": "."}, cmdclass={"build_py": BuildPy})
