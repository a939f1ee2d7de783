"""ouroboros: a runtime for living game worlds that rewrite themselves, safely."""

__version__ = "0.1.0"
__all__ = ["__version__"]
