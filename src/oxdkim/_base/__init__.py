"""The floor: values and helpers every layer may import (time, names, files, DNS answers)."""
