"""Regenerate ``coach_backend/stream/proto_gen`` from ``protos/coach.proto``.

Usage: ``python -m coach_backend.stream.gen_proto [--out DIR]``. Needs grpcio-tools 1.62.x (its
bundled protoc targets the protobuf 4.25 runtime we pin). The generated files are committed; a test
regenerates them into a temp dir and compares byte for byte so they cannot drift from the .proto.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from coach_backend.resources import repo_path

PROTO_DIR = repo_path("protos")  # a developer tool: the .proto is not shipped
PROTO_FILE = "coach.proto"
DEFAULT_OUT = Path(__file__).resolve().parent / "proto_gen"
GENERATED_FILES = ("coach_pb2.py", "coach_pb2.pyi", "coach_pb2_grpc.py")


def generate(out_dir: Path = DEFAULT_OUT, proto_dir: Path = PROTO_DIR) -> list[Path]:
    """Run protoc (python, pyi, grpc) into ``out_dir`` and fix up the grpc module's import."""
    from grpc_tools import protoc  # dev-only dependency, imported lazily

    try:
        tools_version = version("grpcio-tools")
    except PackageNotFoundError:  # pragma: no cover - metadata missing is not fatal
        tools_version = "unknown"
    if not tools_version.startswith("1.62."):
        # Other grpcio-tools versions target another protobuf runtime: the committed files churn.
        print(f"warning: grpcio-tools {tools_version} found, 1.62.x expected", file=sys.stderr)

    out_dir.mkdir(parents=True, exist_ok=True)
    include = str(Path(protoc.__file__).parent / "_proto")  # well-known types
    args = [
        "protoc",
        f"-I{proto_dir}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        str(proto_dir / PROTO_FILE),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(args)}")

    # protoc emits a top-level `import coach_pb2`; make it package-relative so the module imports as
    # coach_backend.stream.proto_gen.coach_pb2 without touching sys.path.
    grpc_mod = out_dir / "coach_pb2_grpc.py"
    text = grpc_mod.read_text()
    fixed, n = re.subn(r"^import coach_pb2 as", "from . import coach_pb2 as", text, flags=re.M)
    if n != 1:
        raise RuntimeError("could not fix up the import in coach_pb2_grpc.py")
    grpc_mod.write_text(fixed)
    return [out_dir / name for name in GENERATED_FILES]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
