"""Make the in-repo SDK (`sdk/layers`) importable without installing it."""
import sys
from pathlib import Path

SDK = Path(__file__).resolve().parents[2] / "sdk"
if str(SDK) not in sys.path:
    sys.path.insert(0, str(SDK))
