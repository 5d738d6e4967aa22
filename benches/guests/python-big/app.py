"""A bigger Python morph for the cold-start benchmark: most of the standard library imported at
build time, so its snapshot carries it."""
import importlib
import pkgutil
import sys

for _name in sorted(sys.stdlib_module_names):
    if _name in ("antigravity", "this", "idlelib", "turtle", "turtledemo", "tkinter", "test"):
        continue
    try:
        _mod = importlib.import_module(_name)
    except BaseException:
        continue
    for _sub in pkgutil.walk_packages(getattr(_mod, "__path__", []), _name + ".", onerror=lambda _: None):
        if ".test" in _sub.name or "idle" in _sub.name:
            continue
        try:
            importlib.import_module(_sub.name)
        except BaseException:
            pass

# Data a real morph would carry (tables, a parsed config): the snapshot holds it.
_TABLE = {str(i): i * i for i in range(80000)}

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        print(f"hello from python with {len(sys.modules)} modules loaded")
