"""The unzipped size of the arm64 Lambda bundle, measured from the real wheels.

pip downloads the wheels `sam build` would install for the functions (Python 3.13,
manylinux2014_aarch64, binary only) into a temporary folder; the bundle is their unpacked
files plus the graphql_api package (its embedded model included). Fails over the budget.

Run with `make bundle-size` (needs PyPI; about 150 MB of downloads).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "infra" / "lambda" / "requirements.txt"
PACKAGE = ROOT / "graphql_api"
MB = 1_000_000
#: Lambda allows 250 MB unzipped; AuraStream keeps a margin for what is still to come.
DEFAULT_BUDGET_MB = 150


def download_wheels(into: Path, python_version: str, platforms: list[str]) -> list[Path]:
    options = [f"--platform={platform}" for platform in platforms]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", *options, "--python-version", python_version,
         "--implementation", "cp", "-r", str(REQUIREMENTS), "-d", str(into)],
        check=True,
    )  # fmt: skip
    return sorted(into.glob("*.whl"))


def distribution(wheel: Path) -> str:
    """The project a wheel belongs to, normalised (`aws_lambda_powertools-3.1-...` ->
    `aws-lambda-powertools`)."""
    return re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()


def unzipped_bytes(wheel: Path) -> int:
    with zipfile.ZipFile(wheel) as archive:
        return sum(info.file_size for info in archive.infolist())


def package_bytes() -> int:
    return sum(
        path.stat().st_size
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-mb", type=float, default=DEFAULT_BUDGET_MB)
    parser.add_argument("--python-version", default="3.13")
    # Lambda's python3.13 runs on Amazon Linux 2023 (glibc 2.34): any wheel up to
    # manylinux_2_34 installs there, and onnxruntime ships only manylinux_2_27/2_28 ones.
    parser.add_argument("--platform", action="append", dest="platforms")
    args = parser.parse_args()
    platforms = args.platforms or [
        "manylinux2014_aarch64", "manylinux_2_27_aarch64", "manylinux_2_28_aarch64",
        "manylinux_2_34_aarch64",
    ]  # fmt: skip

    sizes: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as folder:
        for wheel in download_wheels(Path(folder), args.python_version, platforms):
            sizes[distribution(wheel)] += unzipped_bytes(wheel)
    sizes["graphql_api (with its model)"] = package_bytes()
    total = sum(sizes.values())

    print(f"Lambda bundle, {platforms[-1]}, Python {args.python_version}, unzipped:")
    for name, size in sizes.most_common():
        print(f"  {size / MB:8.1f} MB  {name}")
    print(f"  {total / MB:8.1f} MB  total (budget {args.budget_mb:g} MB, Lambda's limit 250 MB)")
    if total > args.budget_mb * MB:
        print(f"OVER BUDGET by {(total - args.budget_mb * MB) / MB:.1f} MB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
