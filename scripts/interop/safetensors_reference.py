#!/usr/bin/env python3
"""Independent safetensors reference for peft4j (uses the Python `safetensors` library + torch).

  safetensors_reference.py write OUT.safetensors   # writes the reference file (every dtype, __metadata__)
  safetensors_reference.py dump FILE               # prints one JSON object: metadata + each tensor's
                                                   # dtype, shape and raw little-endian bytes as hex

The reference file is committed at peft-core/src/test/resources/interop/safetensors_reference.safetensors;
SafetensorsReferenceTest reads it and checks that peft4j writes the same tensors byte for byte.
The float inputs are exact float32 values; F16/BF16/F64 are torch conversions of the float32 tensor.
"""
import json
import sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file

FLOATS = [0.0, -0.0, 1.0, -1.5, 0.3333333432674408, 65504.0, 65519.0, 65520.0, 1e-08, 6e-05,
          3.0000000054977558e+38, 1.0000000150474662e+30, float("inf"), float("-inf"), float("nan"),
          1.00390625, 1.01171875, 2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -25]


def reference_tensors():
    f32 = torch.tensor(FLOATS, dtype=torch.float32)
    return {
        "f32": f32.reshape(4, 5),
        "f16": f32.to(torch.float16),
        "bf16": f32.to(torch.bfloat16).reshape(2, 10),
        "f64": f32.to(torch.float64),
        "i8": torch.tensor([-128, -1, 0, 1, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        "i16": torch.tensor([-32768, -1, 0, 32767], dtype=torch.int16),
        "i32": torch.tensor([-2**31, -1, 0, 2**31 - 1], dtype=torch.int32),
        "i64": torch.tensor([-2**63, -1, 0, 2**63 - 1], dtype=torch.int64),
        "bool": torch.tensor([True, False, True], dtype=torch.bool),
        "model.layers.0.scalar": torch.tensor(42.5, dtype=torch.float32),
        "model.layers.0.empty": torch.zeros((0, 3), dtype=torch.int32),
    }


def dump(path):
    out = {"tensors": {}}
    with safe_open(path, framework="pt") as f:
        out["metadata"] = f.metadata() or {}
        for name in f.keys():
            t = f.get_tensor(name)
            raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
            out["tensors"][name] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                                    "hex": raw.hex()}
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        save_file(reference_tensors(), sys.argv[2], metadata={"format": "pt"})
    elif len(sys.argv) == 3 and sys.argv[1] == "dump":
        dump(sys.argv[2])
    else:
        sys.exit(__doc__)
