"""Vendor GraphiQL and React into graphql_api/web/static/graphiql from the npm registry.

Build time only: the output is committed, so serving GraphiQL never needs npm or a network.
Each package is fetched with `npm pack` at the pinned version, its tarball is checked against
the pinned sha512 integrity, and the chosen files are copied byte for byte. VERSIONS.json
records every package, version and tarball integrity and each file's source path and sha256.

    python scripts/vendor_graphiql.py          # fetch, verify, write the files and VERSIONS.json
    python scripts/vendor_graphiql.py --check  # offline: the files on disk match VERSIONS.json

GraphiQL 3.9.0 is the last release with a UMD build (`graphiql.min.js` exposing the global
`GraphiQL`, React and ReactDOM as globals); 4.x and later ship ES modules only and would need a
bundler. React 18.3.1 is the last React with UMD builds (React 19 dropped them).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "graphql_api" / "web" / "static" / "graphiql"
MANIFEST = TARGET / "VERSIONS.json"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    #: The registry's `dist.integrity` for the tarball (`npm view NAME@VERSION dist.integrity`).
    integrity: str
    #: Path inside the tarball's `package/` directory -> file name under TARGET.
    files: dict[str, str]


PACKAGES = (
    Package(
        name="react",
        version="18.3.1",
        integrity="sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        files={
            "umd/react.production.min.js": "react.production.min.js",
            "LICENSE": "LICENSE.react",
        },
    ),
    Package(
        name="react-dom",
        version="18.3.1",
        integrity="sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        files={
            "umd/react-dom.production.min.js": "react-dom.production.min.js",
            "LICENSE": "LICENSE.react-dom",
        },
    ),
    Package(
        name="graphiql",
        version="3.9.0",
        integrity="sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA==",
        files={
            "graphiql.min.js": "graphiql.min.js",
            "graphiql.min.css": "graphiql.min.css",
            "LICENSE": "LICENSE.graphiql",
        },
    ),
)


def sha512_integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def npm_pack(package: Package, destination: Path) -> Path:
    spec = f"{package.name}@{package.version}"
    completed = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(destination)],
        check=True,
        capture_output=True,
        text=True,
    )
    (packed,) = json.loads(completed.stdout)
    return destination / str(packed["filename"])


def read_members(tarball: Path, package: Package) -> dict[str, bytes]:
    contents: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for source in package.files:
            member = archive.getmember(f"package/{source}")
            extracted = archive.extractfile(member)
            if extracted is None:
                raise SystemExit(f"{package.name}: package/{source} is not a regular file")
            contents[source] = extracted.read()
    return contents


def vendor() -> None:
    manifest: dict[str, object] = {
        "generated_by": "scripts/vendor_graphiql.py",
        "packages": {},
    }
    packages: dict[str, object] = {}
    staged: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="aurastream-vendor-") as scratch:
        for package in PACKAGES:
            tarball = npm_pack(package, Path(scratch))
            integrity = sha512_integrity(tarball.read_bytes())
            if integrity != package.integrity:
                raise SystemExit(
                    f"{package.name}@{package.version}: tarball integrity {integrity} "
                    f"!= pinned {package.integrity}"
                )
            files: dict[str, object] = {}
            for source, data in read_members(tarball, package).items():
                name = package.files[source]
                staged[name] = data
                files[name] = {"source": source, "sha256": sha256_hex(data), "bytes": len(data)}
            packages[package.name] = {
                "version": package.version,
                "tarball_integrity": integrity,
                "files": files,
            }
    manifest["packages"] = packages

    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)
    for name, data in staged.items():
        (TARGET / name).write_bytes(data)
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    total = sum(len(data) for data in staged.values())
    print(f"vendored {len(staged)} files, {total:,} bytes, into {TARGET.relative_to(ROOT)}")


def check() -> int:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    expected = {package.name: package for package in PACKAGES}
    problems: list[str] = []
    listed: set[str] = {MANIFEST.name}
    for name, entry in manifest["packages"].items():
        pinned = expected.pop(name, None)
        if pinned is None or pinned.version != entry["version"]:
            problems.append(f"{name}: VERSIONS.json does not match the pins in this script")
        for file_name, file_entry in entry["files"].items():
            listed.add(file_name)
            path = TARGET / file_name
            if not path.is_file():
                problems.append(f"{file_name}: missing")
            elif sha256_hex(path.read_bytes()) != file_entry["sha256"]:
                problems.append(f"{file_name}: sha256 differs from VERSIONS.json")
    problems += [f"{name}: pinned but not vendored" for name in expected]
    problems += [
        f"{path.name}: not listed in VERSIONS.json"
        for path in TARGET.iterdir()
        if path.name not in listed
    ]
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{TARGET.relative_to(ROOT)} matches VERSIONS.json")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the files offline")
    arguments = parser.parse_args()
    if arguments.check:
        return check()
    vendor()
    return check()


if __name__ == "__main__":
    sys.exit(main())
