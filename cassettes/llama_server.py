"""Start llama-cpp-python's OpenAI-compatible server with weight repacking off, for recording cassettes.

Some CPUs advertise AMX but the sandbox faults on it; llama.cpp's repacking ("extra buffer types") picks the AMX
kernels, so they are switched off here. Arguments are passed on to ``python -m llama_cpp.server``.
"""

from __future__ import annotations

import sys
from typing import Any

import llama_cpp
import llama_cpp.llama

_default_params = llama_cpp.llama_model_default_params


def _no_repack() -> Any:
    params = _default_params()
    params.use_extra_bufts = False
    return params


llama_cpp.llama_model_default_params = _no_repack
llama_cpp.llama.llama_cpp.llama_model_default_params = _no_repack

if __name__ == "__main__":
    from llama_cpp.server.__main__ import main

    sys.argv[0] = "llama_cpp.server"
    main()
