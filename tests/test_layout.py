"""The house rule for modules (docs/architecture.md): small, with one job.

Two modules grew past it unnoticed once (actors/config.py, 406 lines, while
/help and /monitor texts were added); this keeps it a rule, not a hope."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400


def test_no_module_of_the_server_is_longer_than_the_house_limit():
    modules = [p for top in ("actors", "transport", "storage") for p in (ROOT / top).rglob("*.py")]
    assert len(modules) > 50  # the walk found the packages
    long = {str(p.relative_to(ROOT)): n for p in modules
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
