"""Prints the site directory of this interpreter under the prefix argv[1],
relative to it: lib/python3.X/dist-packages when the interpreter searches
it there (Debian's, e.g. /usr/local/lib/python3.11/dist-packages), else the
standard lib/python3.X/site-packages."""
import os
import sys

prefix = os.path.abspath(sys.argv[1])
lib = os.path.join("lib", f"python{sys.version_info.major}.{sys.version_info.minor}")
debian = os.path.join(lib, "dist-packages")
print(debian if os.path.join(prefix, debian) in sys.path else os.path.join(lib, "site-packages"))
