"""`pip install ./python`: builds Cortado in release (`swift build -c release` in the
repository above: the library, and the tool that runs Python layers from the command line)
and bundles libCortadoPython.so into the package. The library finds the Swift runtime and the system libraries (OpenBLAS, HDF5, …)
where the README's install command put them."""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class BuildWithSwift(build_py):
    def run(self):
        root = os.environ.get("CORTADO_ROOT", ROOT)
        subprocess.check_call(["swift", "build", "-c", "release"], cwd=root)
        built = os.path.join(root, ".build", "release", "libCortadoPython.so")
        build_py.run(self)
        shutil.copy2(built, os.path.join(self.build_lib, "cortado", "libCortadoPython.so"))


setup(cmdclass={"build_py": BuildWithSwift})
