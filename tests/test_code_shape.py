"""Code shape the project holds: no function over 80 lines outside the tests (data tables are not functions)."""
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("core", "cli", "exporters", "addon", "rigs", "tools")
MAX_LINES = 80


def test_no_function_over_80_lines():
    long = []
    for folder in FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    n = node.end_lineno - node.lineno + 1
                    if n > MAX_LINES:
                        long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({n} lines)")
    assert long == []
