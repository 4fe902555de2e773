#!/usr/bin/env python3
"""GGUF files for llama.cpp, made by llama.cpp's own converter from a model directory's Hugging Face checkpoint.

The inference benchmark's column (d) runs llama.cpp (node-llama-cpp) on the very weights our engine runs: this
script feeds the directory's `model.safetensors`, `config.json` and tokenizer files to `convert_hf_to_gguf.py`
and writes `gguf/model-f32.gguf`, `gguf/model-f16.gguf` and `gguf/model-q8_0.gguf` (`--outtype q8_0`: llama.cpp's
own 8-bit blocks, the counterpart of our int8 file), plus `gguf/manifest.json` with the converter's version and
the exact commands.

The converter is not installed: llama.cpp ships it (with its `gguf-py` package and the `conversion/` model
classes it imports) inside the llama-cpp-python source distribution on PyPI, under `vendor/llama.cpp`. The
first run downloads that sdist once with pip and extracts just those files into a cache folder.

    npx qwen3guard build-model --preset qwen3guard-gen-0.6b --dtype fp32 --dtype fp16 --external-data \\
        --hf-checkpoint --out models/qwen3guard-gen-0.6b-synthetic
    /work/venv-ref/bin/python tools/gguf/convert_to_gguf.py models/qwen3guard-gen-0.6b-synthetic

Python: the reference-models venv (tools/reference-models/requirements.txt: torch, transformers, numpy) plus
tools/gguf/requirements.txt (what gguf-py imports besides). Offline tooling: nothing at run time needs it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
OUT_TYPES = ("f32", "f16", "q8_0")
SDIST_ROOT = f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}"
VENDORED = f"{SDIST_ROOT}/vendor/llama.cpp/"
# The llama.cpp commit the sdist vendors: its git submodule's HEAD, kept in the sdist.
SUBMODULE_HEAD = f"{SDIST_ROOT}/.git/modules/vendor/llama.cpp/HEAD"
CONVERTER_PARTS = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "qwen3guard-gen-web" / f"llama-cpp-python-{LLAMA_CPP_PYTHON_VERSION}"


def ensure_converter() -> tuple[Path, dict[str, str]]:
    """The extracted converter folder and its version: downloaded and extracted on the first run only."""
    target = cache_dir()
    version_file = target / "version.json"
    if version_file.exists():
        return target, json.loads(version_file.read_text())
    with tempfile.TemporaryDirectory() as scratch:
        print(f"downloading the llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} sdist (about 77 MB) for llama.cpp's converter ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}", "-d", scratch], check=True)
        sdist = next(Path(scratch).glob("llama_cpp_python-*.tar.gz"))
        staging = target.with_name(target.name + ".partial")
        staging.mkdir(parents=True, exist_ok=True)
        with tarfile.open(sdist) as archive:
            commit = archive.extractfile(SUBMODULE_HEAD).read().decode().strip()
            members = [m for m in archive.getmembers()
                       if m.name.startswith(VENDORED) and m.name[len(VENDORED):].startswith(CONVERTER_PARTS)]
            for member in members:
                member.name = member.name[len(VENDORED):]
            archive.extractall(staging, members=members, filter="data")
        gguf_py = (staging / "gguf-py" / "pyproject.toml").read_text()
        gguf_version = next(line.split('"')[1] for line in gguf_py.splitlines() if line.startswith("version"))
        version = {"llama_cpp_python": LLAMA_CPP_PYTHON_VERSION, "llama_cpp_commit": commit, "gguf_py": gguf_version}
        (staging / "version.json").write_text(json.dumps(version, indent=2) + "\n")
        staging.rename(target)
    return target, version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path, help="a model directory with model.safetensors, config.json and the tokenizer files")
    parser.add_argument("--outtype", nargs="+", choices=OUT_TYPES, default=list(OUT_TYPES))
    parser.add_argument("--force", action="store_true", help="convert again even where the GGUF file exists")
    args = parser.parse_args()
    model_dir = args.model_dir.resolve()
    if not (model_dir / "model.safetensors").exists():
        sys.exit(f"{model_dir} has no model.safetensors: build it with `qwen3guard build-model ... --hf-checkpoint`")
    converter, version = ensure_converter()
    out_dir = model_dir / "gguf"
    out_dir.mkdir(exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"files": {}}
    manifest["converter"] = version
    for out_type in args.outtype:
        out_file = out_dir / f"model-{out_type}.gguf"
        if out_file.exists() and not args.force and out_type in manifest["files"]:
            print(f"{out_file.name}: exists", file=sys.stderr)
            continue
        command = [sys.executable, str(converter / "convert_hf_to_gguf.py"), str(model_dir), "--outtype", out_type, "--outfile", str(out_file)]
        started = time.monotonic()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        seconds = time.monotonic() - started
        manifest["files"][out_type] = {
            "file": out_file.name,
            "bytes": out_file.stat().st_size,
            "seconds": round(seconds, 1),
            "command": ["python", "convert_hf_to_gguf.py", "<model dir>", "--outtype", out_type, "--outfile", f"gguf/{out_file.name}"],
            "converter": version,
        }
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"{out_file.name}: {out_file.stat().st_size / 1e6:.1f} MB in {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
